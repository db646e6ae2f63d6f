#!/usr/bin/env bash
# Run every Python test and browser tour of the Loyalty+ addons on a throwaway database.
# usage: scripts/test.sh [TEST_TAGS]    e.g. scripts/test.sh /loyalty_plus:TestCard.test_enroll
set -uo pipefail
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh" || exit 1

TAGS=${1:-$(echo "$LP_MODULES" | sed 's/\([a-z_]*\)/\/\1/g')}
TEMPLATE=$(lp_template_name)
RUN_DB="lp_test_$$"
LOGDIR="$CACHE/logs"; mkdir -p "$LOGDIR"
LOG="$LOGDIR/test-$(date +%Y%m%d-%H%M%S).log"
# Chromium and Odoo leave profile dirs in TMPDIR: keep them per run and remove them after
export TMPDIR="$CACHE/tmp/test-$$"; mkdir -p "$TMPDIR"
cleanup() { odoo db -c "$ODOO_CONF" drop "$RUN_DB" >/dev/null 2>&1; rm -rf "$TMPDIR"; }
trap cleanup EXIT

template_ok() {
    # the filestore lives in this checkout's data dir: a template made by another checkout lacks it
    [ -d "$CACHE/data/filestore/$TEMPLATE" ] && [ "$(psql -d "$TEMPLATE" -tAc "select count(*) from ir_module_module where state='installed' and name = any(string_to_array('$LP_DEPENDS', ','))" 2>/dev/null)" = \
      "$(echo "$LP_DEPENDS" | tr ',' '\n' | wc -l)" ]
}
if ! template_ok; then
    step "template database $TEMPLATE ($LP_DEPENDS)"
    odoo db -c "$ODOO_CONF" drop "$TEMPLATE" >/dev/null 2>&1
    odoo db -c "$ODOO_CONF" drop "${TEMPLATE}_wip" >/dev/null 2>&1
    # built under another name and renamed once complete: an interrupted build is never reused
    odoo -c "$ODOO_CONF" -d "${TEMPLATE}_wip" -i "$LP_DEPENDS" --stop-after-init --log-level=warn \
        --logfile "$LOGDIR/template.log" 2>>"$LOGDIR/template.log" \
        && odoo db -c "$ODOO_CONF" rename "${TEMPLATE}_wip" "$TEMPLATE" >/dev/null 2>&1 \
        || die "template install failed, see $LOGDIR/template.log"
fi

step "tests ($TAGS) on $RUN_DB, log: $LOG"
odoo db -c "$ODOO_CONF" duplicate -f "$TEMPLATE" "$RUN_DB" >/dev/null 2>&1 || die "cannot copy $TEMPLATE"
start=$(date +%s)
odoo -c "$ODOO_CONF" -d "$RUN_DB" -i "$LP_MODULES" --test-tags "$TAGS" \
    --http-port "${LP_TEST_PORT:-8071}" --gevent-port "$(( ${LP_TEST_PORT:-8071} + 2 ))" --logfile "$LOG" 2>>"$LOG.stderr"
rc=$?
secs=$(( $(date +%s) - start ))

# Odoo's exit code is not enough: a missing browser skips tours and still exits 0
report=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database" "$LOG" | tail -1)
failed=$(echo "$report" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/p')
read -r n_fail n_err n_total <<< "${failed:-0 0 0}"
n_failed=$(( n_fail + n_err ))
n_skipped=$(grep -cE '^[0-9-]+ [0-9:,]+ [0-9]+ INFO \S+ odoo\.[a-z_.]*: skipped ' "$LOG")
n_tours=$(grep -c 'browser: tour succeeded' "$LOG")
problems=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$LOG" | head -20)
traps=$(grep -E 'Chrome executable not found|websocket-client module is not installed|Failed to detect chrome devtools port|Error during Chrome' "$LOG" | head -5)

echo
[ -n "$problems" ] && { echo "ERROR/CRITICAL lines in the log:"; echo "$problems"; }
[ -n "$traps" ] && { echo "Browser problems:"; echo "$traps"; }
[ "$n_skipped" -gt 0 ] && { echo "Skipped tests (not allowed):"; grep -E ' INFO \S+ odoo\.[a-z_.]*: skipped ' "$LOG" | head; }
echo "tests: $n_total, browser tours: $n_tours, skipped: $n_skipped, time: ${secs}s, log: $LOG"
if [ "$n_total" -eq 0 ]; then
    echo "no test ran"
    n_failed=$(( n_failed + 1 ))
fi
echo "$(( n_total - n_fail - n_err )) passed, $n_failed failed"
if [ $rc -ne 0 ] || [ "$n_failed" -ne 0 ] || [ -n "$problems" ] || [ -n "$traps" ] || [ "$n_skipped" -ne 0 ]; then
    exit 1
fi
