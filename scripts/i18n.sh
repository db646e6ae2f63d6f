#!/usr/bin/env bash
# Regenerate the .pot of our addons from a database where they are installed and up to date, merge
# it into their fr/de/lb .po files (translations kept, obsolete entries dropped), and list what is
# left to translate.
# usage: scripts/i18n.sh DB [MODULE ...]     (default: the four addons)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DB=${1:?usage: scripts/i18n.sh DB [MODULE ...]}
shift
MODULES=("$@")
[ ${#MODULES[@]} -gt 0 ] || IFS=, read -ra MODULES <<< "$LP_MODULES"
for module in "${MODULES[@]}"; do
    odoo i18n export -c "$ODOO_CONF" -d "$DB" "$module" >/dev/null
    "$VENV/bin/python" - "$ROOT/$module/i18n" "$module" <<'PY'
import sys

import polib

folder, module = sys.argv[1:]
pot = polib.pofile(f"{folder}/{module}.pot")
for lang in ("fr", "de", "lb"):
    path = f"{folder}/{lang}.po"
    po = polib.pofile(path)
    po.merge(pot)
    po[:] = [entry for entry in po if not entry.obsolete]
    po.save(path)
    todo = [entry.msgid for entry in po if not entry.msgstr.strip() or "fuzzy" in entry.flags]
    for msgid in todo:
        print(f"{module} {lang}: untranslated: {msgid[:100]!r}")
PY
done
