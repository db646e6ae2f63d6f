#!/usr/bin/env bash
# Lint the addons with ruff and pylint-odoo from the project's venv.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/pylint" --rcfile=.pylintrc ${LP_MODULES//,/ }
echo "lint clean"
