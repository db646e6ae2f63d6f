#!/usr/bin/env bash
# Screenshots of the main Loyalty+ screens, taken with headless Chromium from a running demo
# (scripts/demo.sh): POS card panel, PIN pad and receipt; enrollment, success and portal pages
# (desktop and phone); the backend program and card forms. Not a test: look at the pictures.
# usage: scripts/screenshots.sh [--port 8069] [--host 127.0.0.1] [--db DB] [--out .cache/screenshots]
# Each run enrolls two new demo members on the website and rings one sale at the Esch till.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PORT=8069
HOST=127.0.0.1
DB=
OUT="$CACHE/screenshots"
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT=$2; shift 2 ;;
        --host) HOST=$2; shift 2 ;;
        --db) DB=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
PLAYWRIGHT_NPM="playwright-core@1.65.2"
NODE_DIR="$CACHE/node-screenshots"
command -v node >/dev/null || die "node is missing: run scripts/setup.sh"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing: run scripts/setup.sh"
if [ "$(cat "$NODE_DIR/.version" 2>/dev/null)" != "$PLAYWRIGHT_NPM" ] || [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
    step "installing $PLAYWRIGHT_NPM into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    # the driver only: the browser is the system's Chromium
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" "$PLAYWRIGHT_NPM"
    echo "$PLAYWRIGHT_NPM" > "$NODE_DIR/.version"
fi
curl -sf "http://$HOST:$PORT/web/health" >/dev/null || die "no Odoo answers on http://$HOST:$PORT (start it with scripts/demo.sh)"
mkdir -p "$OUT"
step "screenshots of http://$HOST:$PORT into $OUT"
LP_URL="http://$HOST:$PORT" LP_DB="$DB" LP_OUT="$OUT" NODE_PATH="$NODE_DIR/node_modules" \
    exec node "$ROOT/scripts/screenshots.js"
