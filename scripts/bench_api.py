#!/usr/bin/env python3
"""Benchmark of the Loyalty+ integration API over JSON-2 (not a test).

Prints p50/p95 latencies of ``lookup``, ``earn`` and ``redeem`` through
``POST /json/2/loyalty_plus.api/<op>`` next to the floor: a bare JSON-2 ``read`` of one card,
with the same API key, on the same server (started here with ``--workers``), for 1 and 16
concurrent clients. With 16 clients each client works on cards of its own (16 clients on one
card measure contention, not throughput); a last "same card" row sends 16 simultaneous redeems
on one card and counts the answers (200, 409 card_busy, 500).

    .cache/venv/bin/python scripts/bench_api.py --db lp_api_bench --cards 1000000
    .cache/venv/bin/python scripts/bench_api.py --db lp_api_bench --reuse    # a database seeded before

The database is made from the template (``LP_TEMPLATE_DB``, as scripts/test.sh names it;
``odoo db duplicate``), ``loyalty_plus`` installed, then seeded with SQL: ``--cards`` customers
and cards copied from one card made by the ORM. ``--reuse`` updates ``loyalty_plus`` in the
seeded database and gives its "Bench" integration a new API key.
"""

import argparse
import collections
import concurrent.futures
import io
import itertools
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
ODOO_ROOT = ROOT / ".cache" / "odoo-root"
PYTHONPATH = ODOO_ROOT / "usr/lib/python3/dist-packages"
ODOO_BIN = ODOO_ROOT / "usr/bin/odoo"
PYTHON = ROOT / ".cache" / "venv" / "bin" / "python"
CONF = ROOT / ".cache" / "odoo.conf"
TEMPLATE = (
    os.environ.get("LP_TEMPLATE_DB")
    or subprocess.run(
        ["bash", "-c", f"source {ROOT}/scripts/lib.sh && lp_template_name"], capture_output=True, text=True, check=True
    ).stdout.strip()
)
# cards given points for the redeems of the run: 16 clients x 4 cards each
REDEEM_CARDS = 64
SAME_CARD_CLIENTS = 16

READER = """
# the bare read's yardstick: a cashier of the bakery reading one card (an integration's key is
# limited to the Loyalty+ API operations)
from datetime import timedelta
from odoo import fields
reader = env["res.users"].search([("login", "=", "bench_reader")], limit=1) or env["res.users"].create({
    "name": "Bench reader", "login": "bench_reader", "company_id": integration.company_id.id,
    "company_ids": [Command.set(integration.company_id.ids)],
    "group_ids": [Command.set([env.ref("loyalty_plus.group_loyalty_plus_cashier").id])]})
read_key = env["res.users.apikeys"].with_user(reader).sudo()._generate(
    None, "bench read", fields.Datetime.now() + timedelta(days=30))
"""

SETUP = """
from odoo.fields import Command
company = env["res.company"].create({"name": "Bench Bakery", "currency_id": env.ref("base.EUR").id})
program = env["loyalty_plus.program"].create({
    "name": "Bench", "company_id": company.id, "program_type": "hybrid", "stamps_target": 10,
    "points_per_euro": 10, "minimum_purchase": 0, "minimum_redemption_points": 0,
    "stamp_cooldown_minutes": 0, "require_staff_pin": False})
reward = env["loyalty_plus.reward"].create(
    {"name": "Coffee", "program_id": program.id, "points_cost": 1, "reward_kind": "voucher"})
partner = env["res.partner"].create({"name": "Bench Template", "email": "bench-template@example.com"})
card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
integration = env["loyalty_plus.integration"].create({
    "name": "Bench", "company_id": company.id, "shop_ids": [Command.set(company.ids)],
    "allow_redeem": True, "rate_limit_per_minute": 10000000})
key = integration._generate_api_key(duration_days=30)
{reader}# the engine's per-user limits (60 earns a minute) would refuse a benchmark: off in this database
for action in ("earn", "redeem"):
    env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
env.cr.commit()
print("BENCH", company.id, program.id, reward.id, partner.id, card.id, key, read_key)
""".replace("{reader}", READER)


REUSE = """
from odoo.fields import Command
integration = env["loyalty_plus.integration"].search([("name", "=", "Bench")], limit=1)
integration.rate_limit_per_minute = 10000000
reward = env["loyalty_plus.reward"].search([("program_id.company_id", "=", integration.company_id.id)], limit=1)
card = env["loyalty_plus.card"].search([("partner_id.email", "=", "bench-template@example.com")], limit=1)
key = integration._generate_api_key(duration_days=30)
{reader}for action in ("earn", "redeem"):
    env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
env.cr.commit()
print("BENCH", reward.id, card.id, key, read_key)
""".replace("{reader}", READER)


def odoo(*args, stdin=None):
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH))
    return subprocess.run(
        [str(PYTHON), str(ODOO_BIN), *args], input=stdin, env=env, capture_output=True, text=True, check=True
    )


def luhn(body):
    total = 0
    for i, char in enumerate(reversed(body)):
        d = int(char)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def prepare(db, cards):
    print(f"creating {db} from the template and installing loyalty_plus", flush=True)
    odoo("db", "-c", str(CONF), "duplicate", "-f", TEMPLATE, db)
    odoo("-c", str(CONF), "-d", db, "-i", "loyalty_plus", "--stop-after-init", "--no-http")
    out = odoo("shell", "-c", str(CONF), "-d", db, "--no-http", stdin=SETUP).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    _, _company, _program, reward, partner, card, key, read_key = line.split()
    started = time.time()
    with psycopg2.connect(dbname=db) as conn, conn.cursor() as cr:
        # one partner and one card per row of a numbers table, copied from the ORM-made ones
        cr.execute("CREATE TEMP TABLE bench_numbers (n integer, card_number varchar)")
        seen = set()
        rows = []
        while len(rows) < cards:
            body = f"{secrets.randbelow(9 * 10**10) + 10**10}"
            if body not in seen:
                seen.add(body)
                rows.append(f"{len(rows)}\t{body}{luhn(body)}\n")
        cr.copy_expert("COPY bench_numbers FROM STDIN", io.StringIO("".join(rows)))
        cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'res_partner' AND column_name "
            "NOT IN ('id', 'name', 'email', 'complete_name')"
        )
        cols = [r[0] for r in cr.fetchall()]
        col_list = ", ".join(f'"{c}"' for c in cols)
        cr.execute(
            f"""INSERT INTO res_partner (name, complete_name, email, {col_list})
                SELECT 'Bench ' || n, 'Bench ' || n, 'bench' || n || '@example.com', {col_list}
                  FROM res_partner, bench_numbers WHERE res_partner.id = %s ORDER BY n""",
            [int(partner)],
        )
        cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'loyalty_plus_card' AND column_name "
            "NOT IN ('id', 'partner_id', 'card_number')"
        )
        cols = [r[0] for r in cr.fetchall()]
        col_list = ", ".join(f'"{c}"' for c in cols)
        prefixed = ", ".join(f'c."{c}"' for c in cols)
        cr.execute(
            f"""INSERT INTO loyalty_plus_card (partner_id, card_number, {col_list})
                SELECT p.id, b.card_number, {prefixed}
                  FROM loyalty_plus_card c, bench_numbers b
                  JOIN res_partner p ON p.email = 'bench' || b.n || '@example.com'
                 WHERE c.id = %s""",
            [int(card)],
        )
        cr.execute("ANALYZE res_partner; ANALYZE loyalty_plus_card")
    print(f"seeded {cards} cards in {time.time() - started:.0f}s", flush=True)
    return {"card": int(card), "reward": int(reward), "key": key, "read_key": read_key}


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95) - 1] * 1000


def run(base, key, read_key, numbers, redeem_numbers, card_id, reward_id, requests_per_op, clients):
    headers = {"Authorization": f"bearer {key}", "Content-Type": "application/json"}
    local = threading.local()
    client_ids = itertools.count()

    def client():
        """The calling thread's session and its own share of the cards."""
        if not hasattr(local, "session"):
            index = next(client_ids) % clients
            local.session = requests.Session()
            local.numbers = numbers[index::clients]
            local.redeem_numbers = redeem_numbers[index::clients]
        return local

    read_headers = {"Authorization": f"bearer {read_key}", "Content-Type": "application/json"}

    def call(path, payload, headers=headers):
        started = time.perf_counter()
        response = client().session.post(f"{base}/json/2/{path}", json=payload, headers=headers, timeout=60)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        return elapsed

    def op_read(_i):
        return call("loyalty_plus.card/read", {"ids": [card_id], "fields": ["points_balance"]}, read_headers)

    def op_lookup(_i):
        return call("loyalty_plus.api/lookup", {"query": random.choice(client().numbers)})

    def op_earn(_i):
        return call(
            "loyalty_plus.api/earn",
            {
                "idempotency_key": uuid.uuid4().hex,
                "card": random.choice(client().numbers),
                "amount": 12.5,
                "order_ref": uuid.uuid4().hex,
            },
        )

    def op_redeem(_i):
        return call(
            "loyalty_plus.api/redeem",
            {
                "idempotency_key": uuid.uuid4().hex,
                "card": random.choice(client().redeem_numbers),
                "reward_id": reward_id,
            },
        )

    results = {}
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for name, op in (("read (floor)", op_read), ("lookup", op_lookup), ("earn", op_earn), ("redeem", op_redeem)):
            list(pool.map(op, range(min(20, requests_per_op))))  # warm-up
            results[name] = percentiles(list(pool.map(op, range(requests_per_op))))
    return results


def same_card(base, key, number, reward_id, bursts):
    """``bursts`` times, SAME_CARD_CLIENTS redeems on ONE card released together: answers counted."""
    headers = {"Authorization": f"bearer {key}", "Content-Type": "application/json"}
    statuses = collections.Counter()
    samples = []

    def redeem(barrier):
        with requests.Session() as session:
            barrier.wait(timeout=60)
            started = time.perf_counter()
            response = session.post(
                f"{base}/json/2/loyalty_plus.api/redeem",
                json={"idempotency_key": uuid.uuid4().hex, "card": number, "reward_id": reward_id},
                headers=headers,
                timeout=120,
            )
            return response.status_code, time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(SAME_CARD_CLIENTS) as pool:
        for _burst in range(bursts):
            barrier = threading.Barrier(SAME_CARD_CLIENTS)
            for status, elapsed in pool.map(lambda _i, barrier=barrier: redeem(barrier), range(SAME_CARD_CLIENTS)):
                statuses[status] += 1
                samples.append(elapsed)
    return statuses, percentiles(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="lp_api_bench")
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8204, help="HTTP port (the next one is the gevent port)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=300, help="calls per operation and concurrency")
    parser.add_argument("--bursts", type=int, default=5, help="bursts of 16 simultaneous redeems on one card")
    parser.add_argument("--reuse", action="store_true", help="reuse a database seeded before")
    args = parser.parse_args()

    if args.reuse:
        print(f"updating loyalty_plus in {args.db}", flush=True)
        odoo("-c", str(CONF), "-d", args.db, "-u", "loyalty_plus", "--stop-after-init", "--no-http")
        out = odoo("shell", "-c", str(CONF), "-d", args.db, "--no-http", stdin=REUSE).stdout
        line = next(line for line in out.splitlines() if line.startswith("BENCH "))
        _, reward, card, key, read_key = line.split()
        setup = {"key": key, "read_key": read_key, "card": int(card), "reward": int(reward)}
    else:
        setup = prepare(args.db, args.cards)
        print("reuse with: --reuse")
    with psycopg2.connect(dbname=args.db) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM loyalty_plus_card")
        total_cards = cr.fetchone()[0]
        cr.execute("SELECT card_number FROM loyalty_plus_card WHERE id = %s", [setup["card"]])
        numbers = [cr.fetchone()[0]]
        cr.execute("SELECT card_number FROM loyalty_plus_card TABLESAMPLE SYSTEM (1) LIMIT 2000")
        numbers += [r[0] for r in cr.fetchall()]
    redeem_numbers = numbers[1 : REDEEM_CARDS + 1]
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH))
    server = subprocess.Popen(
        [
            str(PYTHON),
            str(ODOO_BIN),
            "-c",
            str(CONF),
            "-d",
            args.db,
            "--db-filter",
            f"^{args.db}$",
            "--http-port",
            str(args.port),
            "--gevent-port",
            str(args.port + 1),
            "--workers",
            str(args.workers),
            "--max-cron-threads",
            "0",
            "--log-level",
            "warn",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _i in range(120):
            try:
                if requests.get(f"{base}/web/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        # points for every redeem of the run, earned through the API like any purchase
        for number in [numbers[0], *redeem_numbers]:
            requests.post(
                f"{base}/json/2/loyalty_plus.api/earn",
                json={
                    "idempotency_key": uuid.uuid4().hex,
                    "card": number,
                    "amount": 100000,
                    "order_ref": uuid.uuid4().hex,
                },
                headers={"Authorization": f"bearer {setup['key']}"},
                timeout=60,
            ).raise_for_status()
        print(
            f"\n{total_cards} cards, server with {args.workers} workers, {args.requests} calls per row; "
            f"{os.cpu_count()} CPU cores for the server, PostgreSQL and the clients together"
        )
        print(f"{'clients':>7} {'operation':<14} {'p50 ms':>8} {'p95 ms':>8} {'p50/floor':>10} {'p95/floor':>10}")
        for clients in (1, 16):
            results = run(
                base,
                setup["key"],
                setup["read_key"],
                numbers,
                redeem_numbers,
                setup["card"],
                setup["reward"],
                args.requests,
                clients,
            )
            floor50, floor95 = results["read (floor)"]
            for name, (p50, p95) in results.items():
                print(f"{clients:>7} {name:<14} {p50:>8.1f} {p95:>8.1f} {p50 / floor50:>10.2f} {p95 / floor95:>10.2f}")
        statuses, (p50, p95) = same_card(base, setup["key"], numbers[0], setup["reward"], args.bursts)
        answers = ", ".join(f"{count}x HTTP {status}" for status, count in sorted(statuses.items()))
        print(f"{SAME_CARD_CLIENTS:>7} {'redeem 1 card':<14} {p50:>8.1f} {p95:>8.1f}   answers: {answers}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
