#!/usr/bin/env bash
# Set up, then serve the demo database loyalty_plus_demo on http://127.0.0.1:8069.
# usage: scripts/demo.sh [stop|--foreground]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DB=loyalty_plus_demo
PIDFILE="$CACHE/demo.pid"
LOG="$CACHE/logs/demo.log"

stop_server() {
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        kill "$(cat "$PIDFILE")"
        for _ in $(seq 30); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.5; done
    fi
    rm -f "$PIDFILE"
}
if [ "${1:-}" = stop ]; then stop_server; echo "demo server stopped"; exit 0; fi

bash "$ROOT/scripts/setup.sh"
mkdir -p "$CACHE/logs"
stop_server

# the addons' sources, to update the database only when they changed
src_hash=$(cd "$ROOT" && find ${LP_MODULES//,/ } -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
if psql -lqt | cut -d'|' -f1 | grep -qw "$DB" && [ ! -d "$CACHE/data/filestore/$DB" ]; then
    # made by another checkout: its files (assets, images) are not in this one's data dir
    echo "$DB exists but its filestore is not in $CACHE/data: building it again"
    odoo db -c "$ODOO_CONF" drop "$DB" >/dev/null 2>&1 || dropdb "$DB"
fi
if ! psql -lqt | cut -d'|' -f1 | grep -qw "$DB"; then
    step "demo database $DB (first time: about three minutes)"
    odoo -c "$ODOO_CONF" -d "$DB" -i "$LP_MODULES" --with-demo --stop-after-init --log-level=warn \
        --logfile "$LOG" 2>>"$LOG" \
        || { odoo db -c "$ODOO_CONF" drop "$DB" >/dev/null 2>&1; die "install failed, see $LOG"; }  # never half a demo
    echo "$src_hash" > "$CACHE/demo.src-hash"
elif [ "$(cat "$CACHE/demo.src-hash" 2>/dev/null)" != "$src_hash" ]; then
    step "updating the Loyalty+ addons in $DB"
    odoo -c "$ODOO_CONF" -d "$DB" -u "$LP_MODULES" --stop-after-init --log-level=warn \
        --logfile "$LOG" 2>>"$LOG" || die "update failed, see $LOG"
    echo "$src_hash" > "$CACHE/demo.src-hash"
fi

# links in emails, wallet passes and the portal (invitation links) lead to where the demo is served
psql -d "$DB" -qc "UPDATE ir_config_parameter SET value = 'http://127.0.0.1:8069' WHERE key = 'web.base.url'"

pos_urls=$(psql -d "$DB" -tAc "select '  POS ' || coalesce(name->>'en_US', name::text) || ': http://127.0.0.1:8069/pos/ui/' || id from pos_config where active order by id" 2>/dev/null \
           || psql -d "$DB" -tAc "select '  POS ' || name || ': http://127.0.0.1:8069/pos/ui/' || id from pos_config where active order by id")
SERVER=("${ODOO_CMD[@]}" -c "$ODOO_CONF" -d "$DB" --db-filter "^$DB\$" --http-interface 127.0.0.1 --http-port 8069
        --workers 2 --max-cron-threads 1 --logfile "$LOG")

cat <<MSG

Loyalty+ demo
  Backend:  http://127.0.0.1:8069/odoo        login admin / admin
  Website:  http://127.0.0.1:8069/
$pos_urls
  Other logins (password = login): bakery_manager, esch_cashier, cafe_manager,
    camille.moreau@example.com (a customer: /my/loyalty)
  Staff PINs: Anna 1234 (Luxembourg-Ville), Marc 2345 (Esch), Sophie 3456 (Differdange), Jeff 4567 (Café Am Eck)
  More: loyalty_plus/readme/DEMO.md
  Log: $LOG     Stop: scripts/demo.sh stop
MSG
if [ "${1:-}" = --foreground ]; then exec "${SERVER[@]}"; fi
nohup "${SERVER[@]}" >>"$LOG" 2>&1 < /dev/null &
echo $! > "$PIDFILE"
for _ in $(seq 60); do
    curl -sf http://127.0.0.1:8069/web/health >/dev/null && { echo "serving on http://127.0.0.1:8069"; exit 0; }
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || die "the server stopped, see $LOG"
    sleep 1
done
die "the server did not answer within 60 s, see $LOG"
