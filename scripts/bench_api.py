#!/usr/bin/env python3
"""Benchmark of the Loyalty+ integration API over JSON-2 (not a test).

Back to back (the default): p50/p95 latencies of ``lookup``, ``stamp`` (with a staff PIN), ``earn``
and ``redeem`` through ``POST /json/2/loyalty_plus.api/<op>`` next to two floors on the same server
(started here with ``--workers``): a bare JSON-2 ``read`` of one card with the API key of a cashier
(lookups are compared with it) and a bare JSON-2 ``write`` of one field of one customer
(``res.partner/write`` of ``comment``) with the API key of an internal user who may write customers
(the writes are compared with it), for 1 and 16 concurrent clients. Each client works on cards (and
customers) of its own (16 clients on one card measure contention, not throughput); a last "same
card" row sends 16 simultaneous redeems on one card and counts the answers (200, 409 card_busy, 500).
The rows take turns in ten slices each, so that a machine busier at one moment weighs on all alike.

Open loop (``--open-loop RATE``): ``--tills`` simulated tills (default 160), each on cards of its own,
send RATE operations a second in all at scheduled times (Poisson arrivals; mix: 40 % lookups, 20 %
stamps, 30 % earns, 10 % redeems) for ``--duration`` seconds, and the same arrivals of the bare mix
(the bare read for each lookup, the bare write for each other operation; ``--rounds`` alternates
them); p50/p95/p99 counted from the scheduled times (queueing included) and the ratio of the p95s.

``--count-writes``: the rows each operation inserts, updates and deletes per call, by table
(a read path should write none).

    .cache/venv/bin/python scripts/bench_api.py --db lp_api_bench --cards 1000000
    .cache/venv/bin/python scripts/bench_api.py --db lp_api_bench --reuse    # a database seeded before
    .cache/venv/bin/python scripts/bench_api.py --db lp_api_bench --reuse --open-loop 80

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
import json
import os
import random
import secrets
import sys
import threading
import time
import uuid

import bench_lib as lib
import psycopg2
import requests

# cards given points for the redeems of the back-to-back runs: 16 clients x 4 cards each
REDEEM_CARDS = 64
SAME_CARD_CLIENTS = 16
# cards read from the database for the clients and tills to work on
SAMPLE_CARDS = 2000
# the back-to-back rows are measured in this many interleaved slices each
SLICES = 10
PIN = "1234"

READER = """
# the floors' yardsticks: a cashier of the bakery reading one card (an integration's key is limited
# to the Loyalty+ API operations), and an internal user who may write customers writing one field of
# one customer (Odoo's own one-record write; a cashier may not write customers)
from datetime import timedelta
from odoo import fields
reader = env["res.users"].search([("login", "=", "bench_reader")], limit=1) or env["res.users"].create({
    "name": "Bench reader", "login": "bench_reader", "company_id": integration.company_id.id,
    "company_ids": [Command.set(integration.company_id.ids)],
    "group_ids": [Command.set([env.ref("loyalty_plus.group_loyalty_plus_cashier").id])]})
read_key = env["res.users.apikeys"].with_user(reader).sudo()._generate(
    None, "bench read", fields.Datetime.now() + timedelta(days=30))
writer = env["res.users"].search([("login", "=", "bench_writer")], limit=1) or env["res.users"].create({
    "name": "Bench writer", "login": "bench_writer", "company_id": integration.company_id.id,
    "company_ids": [Command.set(integration.company_id.ids)],
    "group_ids": [Command.set([env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])]})
write_key = env["res.users.apikeys"].with_user(writer).sudo()._generate(
    None, "bench write", fields.Datetime.now() + timedelta(days=30))
"""

SETUP = """
import json
from odoo.fields import Command
# the Enterprise plan: its integrations may call the API (the plans' limits have tests of their own)
company = env["res.company"].create({"name": "Bench Bakery", "currency_id": env.ref("base.EUR").id,
                                     "loyalty_plus_plan_id": env.ref("loyalty_plus.plan_enterprise").id})
program = env["loyalty_plus.program"].create({
    "name": "Bench", "company_id": company.id, "program_type": "hybrid", "stamps_target": 10,
    "points_per_euro": 10, "minimum_purchase": 0, "minimum_redemption_points": 0,
    "stamp_cooldown_minutes": 0, "max_stamps_per_day": 0, "require_staff_pin": False})
reward = env["loyalty_plus.reward"].create(
    {"name": "Coffee", "program_id": program.id, "points_cost": 1, "reward_kind": "voucher"})
staff = env["loyalty_plus.staff_pin"].create(
    {"name": "Bench", "program_id": program.id, "shop_id": company.id, "new_pin": "%(pin)s"})
partner = env["res.partner"].create({"name": "Bench Template", "email": "bench-template@example.com"})
card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
integration = env["loyalty_plus.integration"].create({
    "name": "Bench", "company_id": company.id, "shop_ids": [Command.set(company.ids)],
    "allow_stamp": True, "allow_redeem": True, "rate_limit_per_minute": 10000000})
key = integration._generate_api_key(duration_days=30)
{reader}# the engine's per-user limits (60 earns a minute) would refuse a benchmark: off in this database
for action in ("stamp", "earn", "redeem", "lookup"):
    env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
env.cr.commit()
print("BENCH", json.dumps({"reward": reward.id, "card": card.id, "partner": partner.id, "staff": staff.id, "key": key,
                           "read_key": read_key, "write_key": write_key}))
""".replace("{reader}", READER).replace("%(pin)s", PIN)


REUSE = """
import json
from odoo.fields import Command
integration = env["loyalty_plus.integration"].search([("name", "=", "Bench")], limit=1)
integration.write({"rate_limit_per_minute": 10000000, "allow_stamp": True, "allow_redeem": True})
reward = env["loyalty_plus.reward"].search([("program_id.company_id", "=", integration.company_id.id)], limit=1)
card = env["loyalty_plus.card"].search([("partner_id.email", "=", "bench-template@example.com")], limit=1)
program = card.program_id
program.write({"stamp_cooldown_minutes": 0, "max_stamps_per_day": 0})
staff = env["loyalty_plus.staff_pin"].search([("program_id", "=", program.id), ("name", "=", "Bench")], limit=1)
if not staff:
    staff = env["loyalty_plus.staff_pin"].create(
        {"name": "Bench", "program_id": program.id, "shop_id": integration.company_id.id, "new_pin": "%(pin)s"})
key = integration._generate_api_key(duration_days=30)
{reader}for action in ("stamp", "earn", "redeem", "lookup"):
    env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
env.cr.commit()
print("BENCH", json.dumps({"reward": reward.id, "card": card.id, "staff": staff.id, "key": key, "read_key": read_key,
                           "write_key": write_key}))
""".replace("{reader}", READER).replace("%(pin)s", PIN)


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
    lib.odoo("db", "-c", lib.CONF, "duplicate", "-f", lib.template_db(), db)
    lib.odoo("-c", lib.CONF, "-d", db, "-i", "loyalty_plus", "--stop-after-init", "--no-http", "--log-level=warn")
    setup = json.loads(lib.shell_output(db, SETUP))
    partner, card = setup["partner"], setup["card"]
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
    return setup


class Api:
    """JSON-2 calls with the integration's key (operations) or the cashier's (floors)."""

    def __init__(self, base, setup):
        self.base = base
        self.setup = setup
        self.headers = {"Authorization": f"bearer {setup['key']}", "Content-Type": "application/json"}
        self.read_headers = {"Authorization": f"bearer {setup['read_key']}", "Content-Type": "application/json"}
        self.write_headers = {"Authorization": f"bearer {setup['write_key']}", "Content-Type": "application/json"}

    def post(self, session, path, payload, headers=None):
        response = session.post(
            f"{self.base}/json/2/{path}", json=payload, headers=headers or self.headers, timeout=120
        )
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code} {response.text[:300]}")
        return response

    # the floors
    def read(self, session, card):
        return self.post(
            session, "loyalty_plus.card/read", {"ids": [card[0]], "fields": ["points_balance"]}, self.read_headers
        )

    def write(self, session, card):
        return self.post(
            session,
            "res.partner/write",
            {"ids": [card[2]], "vals": {"comment": uuid.uuid4().hex}},
            self.write_headers,
        )

    # the operations (``card``: (id, number, partner id))
    def lookup(self, session, card):
        return self.post(session, "loyalty_plus.api/lookup", {"query": card[1]})

    def stamp(self, session, card):
        return self.post(
            session,
            "loyalty_plus.api/stamp",
            {"idempotency_key": uuid.uuid4().hex, "card": card[1], "staff_pin_id": self.setup["staff"], "pin": PIN},
        )

    def earn(self, session, card, amount=12.5):
        return self.post(
            session,
            "loyalty_plus.api/earn",
            {"idempotency_key": uuid.uuid4().hex, "card": card[1], "amount": amount, "order_ref": uuid.uuid4().hex},
        )

    def redeem(self, session, card):
        return self.post(
            session,
            "loyalty_plus.api/redeem",
            {"idempotency_key": uuid.uuid4().hex, "card": card[1], "reward_id": self.setup["reward"]},
        )


def top_up(api, cards):
    """Points for every redeem of the run, earned through the API like any purchase."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda card: api.earn(requests.Session(), card, amount=100000), cards))


# (name, Api method, the floor it is compared with)
ROWS = (
    ("read (floor)", "read"),
    ("write (floor)", "write"),
    ("lookup", "lookup"),
    ("stamp (PIN)", "stamp"),
    ("earn", "earn"),
    ("redeem", "redeem"),
)


def run(api, cards, redeem_cards, requests_per_op, clients):
    """p50/p95 (ms) of each row of ROWS, ``clients`` clients back to back, each on its own cards."""
    local = threading.local()
    client_ids = itertools.count()

    def client():
        """The calling thread's session and its own share of the cards."""
        if not hasattr(local, "session"):
            index = next(client_ids) % clients
            local.session = requests.Session()
            local.cards = cards[index::clients]
            local.redeem_cards = redeem_cards[index::clients]
        return local

    def timed(method):
        def op(_i):
            me = client()
            card = random.choice(me.redeem_cards if method == "redeem" else me.cards)
            started = time.perf_counter()
            getattr(api, method)(me.session, card)
            return time.perf_counter() - started

        return op

    # the rows take turns in slices (read, write, lookup, ..., read, write, ...): a machine that gets
    # busier or quieter during the run weighs on the floors and the operations alike
    samples = {name: [] for name, _method in ROWS}
    slice_size = max(clients, requests_per_op // SLICES)
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for _name, method in ROWS:
            list(pool.map(timed(method), range(min(20, requests_per_op))))  # warm-up
        while any(len(done) < requests_per_op for done in samples.values()):
            for name, method in ROWS:
                calls = min(slice_size, requests_per_op - len(samples[name]))
                samples[name] += pool.map(timed(method), range(calls))
    return {name: tuple(v * 1000 for v in lib.p50_p95(done)) for name, done in samples.items()}


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
    return statuses, tuple(v * 1000 for v in lib.p50_p95(samples))


def back_to_back(api, args, cards, total_cards):
    redeem_cards = cards[1 : REDEEM_CARDS + 1]
    top_up(api, [cards[0], *redeem_cards])
    print(
        f"\n{total_cards} cards, server with {args.workers} workers, {args.requests} calls per row; "
        f"{os.cpu_count()} CPU cores for the server, PostgreSQL and the clients together\n"
        "the lookup is measured against the read floor, the writes (stamp, earn, redeem) against the write floor"
    )
    print(
        f"{'clients':>7} {'operation':<14} {'p50 ms':>8} {'p95 ms':>8} {'p50/read':>9} {'p95/read':>9}"
        f" {'p50/write':>10} {'p95/write':>10}"
    )
    for clients in (1, 16):
        results = run(api, cards[1:], redeem_cards, args.requests, clients)
        read50, read95 = results["read (floor)"]
        write50, write95 = results["write (floor)"]
        for name, (p50, p95) in results.items():
            print(
                f"{clients:>7} {name:<14} {p50:>8.1f} {p95:>8.1f} {p50 / read50:>9.2f} {p95 / read95:>9.2f}"
                f" {p50 / write50:>10.2f} {p95 / write95:>10.2f}"
            )
    statuses, (p50, p95) = same_card(api.base, api.setup["key"], cards[0][1], api.setup["reward"], args.bursts)
    answers = ", ".join(f"{count}x HTTP {status}" for status, count in sorted(statuses.items()))
    print(f"{SAME_CARD_CLIENTS:>7} {'redeem 1 card':<14} {p50:>8.1f} {p95:>8.1f}   answers: {answers}")


def open_loop(api, args, cards):
    """Each till on cards of its own; its first card, given points, takes its redeems."""
    tills = [cards[1 + i :: args.tills] for i in range(args.tills)]
    if any(not till for till in tills):
        sys.exit(f"{args.tills} tills need at least {args.tills} cards; {len(cards) - 1} sampled")
    print(f"giving points to the {args.tills} tills' redeem cards", flush=True)
    top_up(api, [till[0] for till in tills])
    sessions = [requests.Session() for _till in tills]

    def card_for(till, kind, seq):
        own = tills[till]
        return own[0] if kind == "redeem" else own[seq % len(own)]

    def call_ops(till, kind, seq):
        getattr(api, kind)(sessions[till], card_for(till, kind, seq))

    def call_bare(till, kind, seq):
        getattr(api, lib.BARE[kind])(sessions[till], card_for(till, kind, seq))

    def warm():
        session = requests.Session()
        for _i in range(8):
            for method in ("read", "write", "lookup", "stamp", "earn", "redeem"):
                getattr(api, method)(session, tills[0][0])

    print(
        f"{len(cards) - 1} cards among {args.tills} tills ({min(len(t) for t in tills)}-{max(len(t) for t in tills)} "
        f"each), server with {args.workers} workers; {os.cpu_count()} CPU cores for the server, PostgreSQL "
        "and the clients together"
    )
    lib.open_loop(args, call_ops, call_bare, warm=warm)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="lp_api_bench")
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8204, help="HTTP port (the next one is the gevent port)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=300, help="calls per operation and concurrency")
    parser.add_argument("--bursts", type=int, default=5, help="bursts of 16 simultaneous redeems on one card")
    parser.add_argument("--reuse", action="store_true", help="reuse a database seeded before")
    parser.add_argument(
        "--count-writes", action="store_true", help="also count the rows each operation writes per call"
    )
    lib.add_open_loop_arguments(parser)
    args = parser.parse_args()

    if args.reuse:
        print(f"updating loyalty_plus in {args.db}", flush=True)
        lib.odoo(
            "-c", lib.CONF, "-d", args.db, "-u", "loyalty_plus", "--stop-after-init", "--no-http", "--log-level=warn"
        )
        setup = json.loads(lib.shell_output(args.db, REUSE))
    else:
        setup = prepare(args.db, args.cards)
        print("reuse with: --reuse")
    with psycopg2.connect(dbname=args.db) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM loyalty_plus_card")
        total_cards = cr.fetchone()[0]
        cr.execute("SELECT id, card_number, partner_id FROM loyalty_plus_card WHERE id = %s", [setup["card"]])
        cards = [cr.fetchone()]
        # a sample of the cards: whole pages, enough of them for SAMPLE_CARDS rows on a small database too
        percent = max(1.0, min(100.0, 200.0 * SAMPLE_CARDS / max(total_cards, 1)))
        cr.execute(
            f"SELECT id, card_number, partner_id FROM loyalty_plus_card TABLESAMPLE SYSTEM ({percent:.2f}) "
            "WHERE id != %s LIMIT %s",
            [setup["card"], SAMPLE_CARDS],
        )
        cards += cr.fetchall()
    server = lib.start_server(args.db, args.port, args.workers, log_path=f"/tmp/bench_api_{args.port}.log")
    api = Api(f"http://127.0.0.1:{args.port}", setup)
    try:
        if args.open_loop:
            open_loop(api, args, cards)
        else:
            back_to_back(api, args, cards, total_cards)
        if args.count_writes:
            session = requests.Session()
            sample = cards[1:]
            lib.count_writes(
                args.db,
                {
                    name: (lambda i, method=method: getattr(api, method)(session, sample[i % len(sample)]))
                    for name, method in ROWS
                },
            )
    finally:
        lib.stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
