#!/usr/bin/env bash
# Scale-out on this machine, measured: a PostgreSQL 15 primary and its streaming replica (Debian's
# clusters, pg_basebackup -R), two Odoo servers with workers reading from the replica
# (--db_replica_host) and crons on one of them only, HAProxy in front. Drives lookups and stamps of
# the integration API through it and prints: the share of read queries served by the replica, p50/p95
# through the load balancer against one node, an idempotency key replayed on the other node, a rate
# limit counted across both nodes, and what a cashier reads right after a stamp with the replica's
# replay paused.
#
# The machine's main cluster (15/main) is only read (pg_dump of the source database): the primary and
# the replica are two clusters of their own, dropped at the end (--keep keeps them running).
#
# usage: scripts/scale_out.sh [--source DB] [--lookups N] [--stamps N] [--keep]
#        (DB: a database with loyalty_plus installed; default: the demo's, else the template)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SOURCE=""
LOOKUPS=300
STAMPS=100
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --source) SOURCE=$2; shift 2 ;;
        --lookups) LOOKUPS=$2; shift 2 ;;
        --stamps) STAMPS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        *) die "unknown option $1" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (apt, pg_createcluster)"

PG_VERSION=15
PRIMARY=lp_scale_primary
REPLICA=lp_scale_replica
PRIMARY_PORT=${LP_SCALE_PRIMARY_PORT:-5440}
REPLICA_PORT=${LP_SCALE_REPLICA_PORT:-5441}
NODE_PORTS=(${LP_SCALE_NODE_PORTS:-8580 8581})
LB_PORT=${LP_SCALE_LB_PORT:-8590}
DB=lp_scale
WORK="$CACHE/scale_out"
DATA="$WORK/data"          # the nodes' shared data_dir (filestore, sessions)
SOCKET=/var/run/postgresql
ODOO_PIDS=()
HAPROXY_PID=""

cleanup() {
    [ "$KEEP" -eq 1 ] && { step "kept running (--keep): nodes ${NODE_PORTS[*]}, balancer $LB_PORT"; return; }
    step "cleaning up"
    for pid in "${ODOO_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done  # the prefork master stops its workers
    [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null || true
    for pid in "${ODOO_PIDS[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done; done
    pg_dropcluster --stop "$PG_VERSION" "$REPLICA" 2>/dev/null || true
    pg_dropcluster --stop "$PG_VERSION" "$PRIMARY" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$SOURCE" ]; then
    if psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'loyalty_plus_demo'" | grep -q 1; then
        SOURCE=loyalty_plus_demo
    else
        SOURCE=$(lp_template_name)
    fi
fi
psql -d "$SOURCE" -Atc "SELECT 1 FROM ir_module_module WHERE name = 'loyalty_plus' AND state = 'installed'" \
    | grep -q 1 || die "$SOURCE has no loyalty_plus installed: pass --source DB"

step "HAProxy (Debian's package)"
command -v haproxy >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null
haproxy -v | head -1

step "PostgreSQL: primary cluster $PRIMARY on $PRIMARY_PORT (a copy of $SOURCE), replica $REPLICA on $REPLICA_PORT"
pg_dropcluster --stop "$PG_VERSION" "$REPLICA" 2>/dev/null || true
pg_dropcluster --stop "$PG_VERSION" "$PRIMARY" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$WORK" "$DATA/filestore"
SETTINGS=(-o "listen_addresses=localhost" -o "shared_preload_libraries=pg_stat_statements" -o "pg_stat_statements.track=all"
          -o "wal_level=replica" -o "max_wal_senders=5" -o "hot_standby=on" -o "fsync=on")
pg_createcluster "$PG_VERSION" "$PRIMARY" -p "$PRIMARY_PORT" "${SETTINGS[@]}" --start >/dev/null
su postgres -c "createuser -h $SOCKET -p $PRIMARY_PORT --superuser $(id -un)"
createdb -h "$SOCKET" -p "$PRIMARY_PORT" "$DB"
pg_dump -d "$SOURCE" --no-owner | psql -q -h "$SOCKET" -p "$PRIMARY_PORT" -d "$DB" >/dev/null
cp -a "$CACHE/data/filestore/$SOURCE" "$DATA/filestore/$DB" 2>/dev/null || mkdir -p "$DATA/filestore/$DB"
psql -q -h "$SOCKET" -p "$PRIMARY_PORT" -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
# the replica: an empty cluster directory filled by pg_basebackup -R (standby.signal, primary_conninfo)
pg_createcluster "$PG_VERSION" "$REPLICA" -p "$REPLICA_PORT" "${SETTINGS[@]}" >/dev/null
REPLICA_DATA=$(pg_lsclusters -h | awk -v c="$REPLICA" '$2 == c {print $6}')
rm -rf "$REPLICA_DATA"
su postgres -c "pg_basebackup -h $SOCKET -p $PRIMARY_PORT -D $REPLICA_DATA -R -X stream -c fast"
pg_ctlcluster "$PG_VERSION" "$REPLICA" start
sleep 1
psql -h "$SOCKET" -p "$PRIMARY_PORT" -d postgres -Atc \
    "SELECT 'replication: ' || application_name || ' ' || state || ', sync ' || sync_state FROM pg_stat_replication"
psql -h "$SOCKET" -p "$REPLICA_PORT" -d postgres -Atc "SELECT 'replica in recovery: ' || pg_is_in_recovery()"

DB_ARGS=(--db_host "$SOCKET" --db_port "$PRIMARY_PORT")
step "seeding $DB: a merchant, its program, 2 integrations with API keys, cards"
odoo shell -c "$ODOO_CONF" "${DB_ARGS[@]}" -d "$DB" --data-dir "$DATA" --no-http --log-level=warn \
    > "$WORK/seed.json" 2> "$WORK/seed.log" <<'PY'
import json
from odoo.fields import Command
enterprise = env.ref("loyalty_plus.plan_enterprise")
merchant = env["res.company"].with_context(default_loyalty_plus_plan_id=enterprise.id).create(
    {"name": "Scale-out Bakery", "currency_id": env.ref("base.EUR").id})
program = env["loyalty_plus.program"].create({"name": "Scale-out Stamps", "company_id": merchant.id,
    "program_type": "stamps", "stamps_target": 1000, "stamp_cooldown_minutes": 0, "max_stamps_per_day": 0,
    "require_staff_pin": False})
env.user.company_ids = [Command.link(merchant.id)]
Integration = env["loyalty_plus.integration"].with_context(allowed_company_ids=[merchant.id]).with_company(merchant)
def integration(name, limit):
    record = Integration.create({"name": name, "shop_ids": [Command.set(merchant.ids)], "allow_stamp": True,
                                 "allow_lookup": True, "rate_limit_per_minute": limit})
    return record._generate_api_key()
keys = {"bench": integration("Scale-out bench", 100000), "limited": integration("Scale-out limited", 20)}
partners = env["res.partner"].create([{"name": f"Member {i}", "email": f"m{i}@scale.example"} for i in range(300)])
cards = env["loyalty_plus.card"].create([{"partner_id": p.id, "program_id": program.id, "shop_id": merchant.id}
                                         for p in partners])
env.cr.commit()
print(json.dumps({"keys": keys, "cards": cards.mapped("card_number"), "shop_id": merchant.id}))
PY

step "two Odoo nodes (2 workers each; crons on the first only), HAProxy on $LB_PORT"
for index in 0 1; do
    port=${NODE_PORTS[$index]}
    crons=$([ "$index" -eq 0 ] && echo 1 || echo 0)
    # the launcher itself in the background (not the shell function), so that $! is Odoo's master
    "${ODOO_CMD[@]}" -c "$ODOO_CONF" "${DB_ARGS[@]}" --db_replica_host "$SOCKET" --db_replica_port "$REPLICA_PORT" \
        -d "$DB" --db-filter "^$DB\$" --data-dir "$DATA" --workers 2 --max-cron-threads "$crons" \
        --http-port "$port" --gevent-port $((port + 100)) --limit-time-real 120 \
        --logfile "$WORK/node$index.log" --log-level=warn &
    ODOO_PIDS+=($!)
done
cat > "$WORK/haproxy.cfg" <<CFG
global
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend loyalty_plus
    bind 127.0.0.1:$LB_PORT
    default_backend odoo
backend odoo
    balance roundrobin
    option httpchk
    http-check send meth GET uri /web/health ver HTTP/1.1 hdr Host localhost
    server node_a 127.0.0.1:${NODE_PORTS[0]} check
    server node_b 127.0.0.1:${NODE_PORTS[1]} check
CFG
haproxy -f "$WORK/haproxy.cfg" -p "$WORK/haproxy.pid" 2> "$WORK/haproxy.log" &
HAPROXY_PID=$!
for port in "${NODE_PORTS[@]}" "$LB_PORT"; do
    for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/web/health" >/dev/null && break; sleep 1; done
    curl -sf "http://127.0.0.1:$port/web/health" >/dev/null || die "nothing answers on $port (see $WORK)"
done

step "driving the API through the balancer and one node"
"$VENV/bin/python" - "$WORK/seed.json" "$LB_PORT" "${NODE_PORTS[0]}" "${NODE_PORTS[1]}" "$PRIMARY_PORT" \
    "$REPLICA_PORT" "$DB" "$LOOKUPS" "$STAMPS" <<'PY'
import json
import statistics
import sys
import time
import uuid

import psycopg2
import requests

seed_file, lb, node_a, node_b, primary_port, replica_port, db, lookups, stamps = sys.argv[1:]
seed = json.load(open(seed_file))
cards, shop_id = seed["cards"], seed["shop_id"]


def connect(port):
    conn = psycopg2.connect(host="/var/run/postgresql", port=int(port), dbname=db)
    conn.autocommit = True
    return conn


primary, replica = connect(primary_port), connect(replica_port)


def call(port, method, key="bench", **params):
    started = time.perf_counter()
    response = requests.post(
        f"http://127.0.0.1:{port}/json/2/loyalty_plus.api/{method}",
        json={"shop_id": shop_id, **params},
        headers={"Authorization": f"bearer {seed['keys'][key]}"},
        timeout=60,
    )
    return response.status_code, response.json(), (time.perf_counter() - started) * 1000


def reads(conn):
    with conn.cursor() as cr:
        cr.execute(
            """SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                WHERE d.datname = %s AND query ILIKE 'select%%'""",
            [db],
        )
        return int(cr.fetchone()[0])


def percentile(values, share):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def reset():
    for conn in (primary, replica):
        with conn.cursor() as cr:
            cr.execute("SELECT pg_stat_statements_reset()")


def report_reads(phase):
    on_primary, on_replica = reads(primary), reads(replica)
    share = 100.0 * on_replica / max(1, on_primary + on_replica)
    print(f"  read queries (SELECT) of the {phase}: replica {on_replica}, primary {on_primary}"
          f" -> {share:.1f} % on the replica")


def run(port, label, count_reads=False):
    timings = {"lookup": [], "stamp": []}
    reset()
    for i in range(int(lookups)):
        status, body, ms = call(port, "lookup", query=cards[i % len(cards)])
        assert status == 200, body
        timings["lookup"].append(ms)
    if count_reads:
        report_reads("lookups")
        reset()
    for i in range(int(stamps)):
        status, body, ms = call(port, "stamp", idempotency_key=str(uuid.uuid4()), card=cards[(i * 7) % len(cards)])
        assert status == 200, body
        timings["stamp"].append(ms)
    if count_reads:
        report_reads("stamps")
    for op, values in timings.items():
        print(f"  {label:<22} {op:<7} n={len(values):<4} p50 {percentile(values, 0.5):6.1f} ms"
              f"   p95 {percentile(values, 0.95):6.1f} ms")
    return timings


for i in range(40):  # warm the workers of both nodes
    call(lb, "lookup", query=cards[i])
print("through the balancer (sequential calls):")
run(lb, "through the balancer", count_reads=True)
print("one node, directly:")
run(node_a, "one node")

print("idempotency across nodes:")
key, card = str(uuid.uuid4()), cards[1]
first = call(node_a, "stamp", idempotency_key=key, card=card)
again = call(node_b, "stamp", idempotency_key=key, card=card)
replayed = again[1].pop("replayed", False)
same = first[1] == again[1]
print(f"  stamp on node A -> {first[0]} transaction {first[1].get('transaction_id')}, {first[1]['card']['stamps']} stamps;"
      f" same key on node B -> {again[0]} transaction {again[1].get('transaction_id')}, replayed={replayed}: "
      f"{'the first answer' if same else 'A DIFFERENT ANSWER'}")

print("rate limit across nodes (integration limited to 20 calls a minute):")
time.sleep(max(0, 61 - time.time() % 60))  # a fresh minute for the counter
outcomes = {node_a: [], node_b: []}
for i in range(30):
    port = node_a if i % 2 == 0 else node_b
    status, _body, _ms = call(port, "stamp", key="limited", idempotency_key=str(uuid.uuid4()), card=cards[100 + i])
    outcomes[port].append(status)
accepted = sum(status == 200 for statuses in outcomes.values() for status in statuses)
refused = sum(status == 429 for statuses in outcomes.values() for status in statuses)
print(f"  30 calls, 15 per node: {accepted} accepted, {refused} refused (429)"
      f" [node A {outcomes[node_a].count(429)} refused, node B {outcomes[node_b].count(429)} refused]")

print("read-your-writes with the replica's replay paused:")
card = cards[2]
before = call(lb, "lookup", query=card)[1]["card"]["stamps"]
with replica.cursor() as cr:
    cr.execute("SELECT pg_wal_replay_pause()")
try:
    status, body, _ms = call(lb, "stamp", idempotency_key=str(uuid.uuid4()), card=card)
    written = body["card"]["stamps"]
    seen = [call(port, "lookup", query=card)[1]["card"]["stamps"] for port in (node_a, node_b)]
finally:
    with replica.cursor() as cr:
        cr.execute("SELECT pg_wal_replay_resume()")
time.sleep(1)
after = call(lb, "lookup", query=card)[1]["card"]["stamps"]
print(f"  before: {before} stamps; the stamp's answer (primary): {written};"
      f" a lookup right after, replay paused (replica): {seen}; after resuming: {after}")
print("  guarantee: the write's own answer carries the new balance (read on the primary in its transaction);"
      " a separate lookup is served by the replica and is as fresh as its replay")
PY
grep -h "retrying with a read/write cursor" "$WORK"/node*.log | head -3 || true
echo "logs: $WORK/node0.log $WORK/node1.log"
