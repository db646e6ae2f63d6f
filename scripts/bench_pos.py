#!/usr/bin/env python3
"""Benchmark of the Loyalty+ POS calls (not a test: it prints its figures).

    .cache/venv/bin/python scripts/bench_pos.py [--cards 100000] [--port 8104] [--calls 40]
    .cache/venv/bin/python scripts/bench_pos.py --skip-prepare --open-loop 80     # open loop, see below
    .cache/venv/bin/python scripts/bench_pos.py --skip-prepare --boot-only        # the boot payloads only

1. Copies the template database twice: ``lp_pos_bench`` (+ loyalty_plus_pos) and
   ``lp_pos_bench_base`` (point_of_sale without any Loyalty+ addon).
2. Seeds ``--cards`` members on the first (partners, cards and one ledger row each, set-based SQL),
   and as many customers (the same partners, without cards) on the second, so that the two POS
   boots differ only by Loyalty+ (Odoo's POS preloads up to 100 customers of its own).
3. Starts Odoo with ``--workers 4`` on ``--port`` and measures, for 1 and 16 concurrent clients,
   p50/p95 of a bare one-record ``read`` and ``write`` of a customer (the budget units),
   ``lp_search`` (the till's lookup), ``add_stamp`` (with a staff PIN),
   ``earn_points`` and ``redeem_reward``.
4. Prints the POS boot payload (``pos.session.load_data`` and ``load_data_params``, JSON bytes) with
   and without the addon, model by model where they differ.

``--open-loop RATE``: instead of 3 and 4, ``--tills`` simulated tills (default 160), each on cards of
its own, send RATE operations a second in all at scheduled times (Poisson arrivals; mix: 40 %
lookups, 20 % stamps, 30 % earns, 10 % redeems) for ``--duration`` seconds, and the same arrivals of
the bare mix (the bare read for each lookup, the bare write for each other operation; ``--rounds``
alternates them); p50/p95/p99 counted from the scheduled times (queueing included) and the ratio of
the p95s.

``--count-writes``: the rows each call writes, by table (a read path should write none).
``--rate-limits``: the engine's per-user and per-IP rate counters stay at work (their limits out of
reach): one login stands for all the tills, so by default its limits are off.
"""

import argparse
import json
import threading
import time
import uuid
from pathlib import Path

import bench_lib as lib
import psycopg2
import requests

# the bench customers, the same in both databases (the Loyalty+ one gives each a card)
PARTNER_INSERT = """INSERT INTO res_partner (name, email, active, type, autopost_bills, is_company, create_date,
                                 write_date, complete_name)
        SELECT 'Bench member ' || n, 'bench' || n || '@example.com', true, 'contact', 'ask', false, now(), now(),
               'Bench member ' || n"""

SETUP = r"""
import random
from odoo.tools import SQL
from odoo.addons.loyalty_plus.models.loyalty_plus_card import luhn_check_digit
N = int(%(cards)d)
company = env.company
company.loyalty_plus_cross_location = True
Config = env["pos.config"]
config = Config.search([("company_id", "=", company.id)], limit=1)
if not config:
    journal, pms = Config._create_journal_and_payment_methods()
    config = Config.create({"name": "Bench till", "journal_id": journal.id, "payment_method_ids": pms})
program = env["loyalty_plus.program"].create({
    "name": "Bench", "company_id": company.id, "program_type": "hybrid", "stamps_target": 10,
    "points_per_euro": 1, "minimum_redemption_points": 0, "stamp_cooldown_minutes": 0,
    "max_stamps_per_day": 0, "require_staff_pin": True})
reward = env["loyalty_plus.reward"].create({"name": "Bench reward", "program_id": program.id,
    "points_cost": 10, "reward_kind": "amount", "discount_amount": 1})
env["loyalty_plus.tier"].create({"name": "Gold", "program_id": program.id, "threshold_points": 100000})
staff = env["loyalty_plus.staff_pin"].create({"name": "Bench", "program_id": program.id,
    "shop_id": company.id, "new_pin": "1234"})
# a busy shop: 50 staff PINs
env["loyalty_plus.staff_pin"].create([{"name": f"Staff {n}", "program_id": program.id, "shop_id": company.id,
    "new_pin": f"{5000 + n}"} for n in range(49)])
env.flush_all()
rng = random.Random(7)
numbers = set()
while len(numbers) < N:
    body = str(rng.randrange(10**10, 10**11))
    numbers.add(body + luhn_check_digit(body))
numbers = sorted(numbers)
env.cr.execute("CREATE TEMP TABLE bench_numbers (n int, card_number varchar)")
env.cr.execute(
    "INSERT INTO bench_numbers SELECT i, x FROM unnest(%%s::varchar[]) WITH ORDINALITY AS t(x, i)", [numbers]
)
env.cr.execute(SQL('''
    WITH p AS (
        {partner_insert}
          FROM bench_numbers ORDER BY n RETURNING id, name)
    INSERT INTO loyalty_plus_card (card_number, partner_id, program_id, company_id, shop_id, cross_location, active,
        stamp_count, total_stamps_earned, total_stamps_redeemed, points_balance, total_points_earned,
        total_points_redeemed, total_points_voided, total_points_expired, marketing_consent, create_date, write_date)
    SELECT b.card_number, p.id, %%s, %%s, %%s, true, true, 0, 0, 0, 100000, 100000, 0, 0, 0, false, now(), now()
      FROM p JOIN bench_numbers b ON p.name = 'Bench member ' || b.n''', program.id, company.id, company.id))
env.cr.execute(SQL('''
    INSERT INTO loyalty_plus_transaction (card_id, program_id, company_id, shop_id, transaction_type, stamps_delta,
        points_delta, stamps_after, points_after, note, create_date, write_date)
    SELECT id, program_id, company_id, shop_id, 'points_adjusted', 0, 100000, 0, 100000, 'bench seed', now(), now()
      FROM loyalty_plus_card WHERE program_id = %%s''', program.id))
env.cr.execute("ANALYZE loyalty_plus_card; ANALYZE loyalty_plus_transaction; ANALYZE res_partner")
# the per-user rate limit guards the public API; here one login stands for all the tills
for action in ("stamp", "earn", "redeem", "lookup"):
    env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
env["res.users"].browse(2).password = "admin"
env.cr.commit()
env.cr.execute("SELECT count(*) FROM res_partner WHERE name LIKE 'Bench member %%'")
print("BENCH", json.dumps({"config": config.id, "reward": reward.id, "staff": staff.id, "company": company.id,
                           "customers": env.cr.fetchone()[0], "numbers": numbers[:2000]}))
""".replace("{partner_insert}", PARTNER_INSERT)

# point_of_sale alone, with the same customers as the Loyalty+ database has members
BASE_SETUP = r"""
N = int(%(cards)d)
company = env.company
Config = env["pos.config"]
config = Config.search([("company_id", "=", company.id)], limit=1)
if not config:
    journal, pms = Config._create_journal_and_payment_methods()
    config = Config.create({"name": "Bench till", "journal_id": journal.id, "payment_method_ids": pms})
env.flush_all()
env.cr.execute('''{partner_insert}
          FROM generate_series(1, %%s) AS n ORDER BY n''', [N])
env.cr.execute("ANALYZE res_partner")
env["res.users"].browse(2).password = "admin"
env.cr.commit()
env.cr.execute("SELECT count(*) FROM res_partner WHERE name LIKE 'Bench member %%'")
print("BENCH", json.dumps({"config": config.id, "customers": env.cr.fetchone()[0]}))
""".replace("{partner_insert}", PARTNER_INSERT)


def prepare(db, modules, setup, cards):
    lib.odoo("db", "-c", lib.CONF, "duplicate", "-f", lib.template_db(), db)
    if modules:
        lib.odoo("-c", lib.CONF, "-d", db, "-i", modules, "--stop-after-init", "--no-http", "--log-level=warn")
    return json.loads(lib.shell_output(db, "import json\n" + setup % {"cards": cards}))


# what the web client (and the POS) sends with every call
CONTEXT = {"context": {"lang": "en_US", "tz": "Europe/Luxembourg"}}


class Client:
    """A JSON-RPC client with the admin's web session; ``clone()`` shares the session (one login,
    as the tills of one shop share their cashier's)."""

    def __init__(self, base, db, cookies=None):
        self.base = base
        self.session = requests.Session()
        if cookies is not None:
            self.session.cookies.update(cookies)
            return
        r = self.session.post(
            f"{base}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}},
        )
        r.raise_for_status()
        assert r.json().get("result"), r.text

    def clone(self):
        return Client(self.base, None, cookies=self.session.cookies)

    def call(self, model, method, args, kwargs=None):
        r = self.session.post(
            f"{self.base}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "params": {"model": model, "method": method, "args": args, "kwargs": {**(kwargs or {}), **CONTEXT}},
            },
            timeout=120,
        )
        r.raise_for_status()
        body = r.json()
        if "error" in body:
            raise RuntimeError(body["error"]["data"]["message"])
        return body["result"], len(r.content)


def measure(login, clients, calls, operation):
    """Each of ``clients`` threads runs ``calls`` operations; returns the latencies (ms)."""
    sessions = [login.clone() for _ in range(clients)]
    latencies = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker(index, client):
        barrier.wait()
        for i in range(calls):
            start = time.perf_counter()
            operation(client, index * calls + i)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def boot_payload(base, db, config_id):
    """``{"load_data": (bytes, ms), "load_data_params": (bytes, ms), "models": {model: bytes},
    "cards": n}`` of one POS boot."""
    client = Client(base, db)
    client.call("pos.config", "open_ui", [[config_id]])
    session_id, _size = client.call("pos.config", "read", [[config_id], ["current_session_id"]])
    session = session_id[0]["current_session_id"][0]
    out = {}
    for method, args in (("load_data", [[session], []]), ("load_data_params", [[session]])):
        start = time.perf_counter()
        data, size = client.call("pos.session", method, args)
        out[method] = (size, (time.perf_counter() - start) * 1000)
        if method == "load_data":
            out["models"] = {model: len(json.dumps(value, separators=(",", ":"))) for model, value in data.items()}
            out["cards"] = len(data.get("loyalty_plus.card", []))
    return out


def print_boot(cards, info, base_info, boot, base_boot):
    print(
        f"\nPOS boot payload (JSON bytes), {info['customers']:,d} customers in both databases "
        f"(Odoo's POS preloads up to 100 of them):"
    )
    print(f"  {'':<40} {'load_data':>12} {'ms':>6} {'load_data_params':>17} {'ms':>6}")
    for label, b in (
        ("without Loyalty+", base_boot),
        (f"with loyalty_plus_pos ({cards:,d} cards)", boot),
    ):
        print(
            f"  {label:<40} {b['load_data'][0]:>12,d} {b['load_data'][1]:>6.0f} "
            f"{b['load_data_params'][0]:>17,d} {b['load_data_params'][1]:>6.0f}"
        )
    diff = boot["load_data"][0] - base_boot["load_data"][0]
    diff_params = boot["load_data_params"][0] - base_boot["load_data_params"][0]
    print(f"  {'difference':<40} {diff:>+12,d} {'':>6} {diff_params:>+17,d}   (total {diff + diff_params:+,d} bytes)")
    print(f"  cards in the payload: {boot['cards']}; load_data model by model where they differ (compact JSON bytes):")
    models = sorted(set(boot["models"]) | set(base_boot["models"]))
    for model in models:
        with_lp, without = boot["models"].get(model, 0), base_boot["models"].get(model, 0)
        if with_lp != without:
            print(f"    {model:<38} {without:>10,d} -> {with_lp:>10,d}  ({with_lp - without:+,d})")
    if info["customers"] != base_info["customers"]:
        print(f"  WARNING: {info['customers']} members but {base_info['customers']} customers without Loyalty+")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8104, help="HTTP port (the next one is the gevent port)")
    parser.add_argument("--calls", type=int, default=40, help="calls per client and operation")
    parser.add_argument("--skip-prepare", action="store_true", help="reuse the databases of the last run")
    parser.add_argument("--boot-only", action="store_true", help="measure the boot payloads only")
    parser.add_argument(
        "--count-writes", action="store_true", help="also count the rows each operation writes per call"
    )
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep the engine's per-user and per-IP rate counters at work (limits out of reach instead of off)",
    )
    lib.add_open_loop_arguments(parser)
    args = parser.parse_args()
    db, base_db = "lp_pos_bench", "lp_pos_bench_base"
    info_path = Path("/tmp/lp_pos_bench.json")
    if args.skip_prepare and info_path.exists():
        info, base_info = json.loads(info_path.read_text())
        args.cards = info["customers"]
    else:
        t0 = time.time()
        info = prepare(db, "loyalty_plus_pos", SETUP, args.cards)
        base_info = prepare(base_db, None, BASE_SETUP, args.cards)
        info_path.write_text(json.dumps([info, base_info]))
        print(f"prepared {args.cards} cards in {time.time() - t0:.0f}s", flush=True)

    # one login stands for all the tills: its rate limits are off, or out of reach with --rate-limits
    with psycopg2.connect(dbname=db) as conn, conn.cursor() as cr:
        cr.execute(
            "UPDATE ir_config_parameter SET value = %s WHERE key LIKE 'loyalty_plus.rate_limit.%%'",
            ["1000000000" if args.rate_limits else "0"],
        )
    base = f"http://127.0.0.1:{args.port}"
    proc = lib.start_server(db, args.port, log_path=f"/tmp/bench_pos_{args.port}.log")
    try:
        login = Client(base, db)
        cards, _size = login.call(
            "loyalty_plus.card",
            "search_read",
            [[["card_number", "in", info["numbers"]]], ["card_number", "partner_id"]],
            {"order": "id"},
        )
        # (card id, number, partner id)
        cards = [(c["id"], c["card_number"], c["partner_id"][0]) for c in cards]
        shop = info["company"]

        def read(c, card):
            return c.call("res.partner", "read", [[card[2]], ["name"]])

        def write(c, card):
            # a bare committed write, for scale: every loyalty operation but the lookup writes and commits
            return c.call("res.partner", "write", [[card[2]], {"comment": uuid.uuid4().hex}])

        def lookup(c, card):
            # the till's card search
            return c.call("loyalty_plus.card", "lp_search", [card[1], info["config"]])

        def stamp(c, card):
            return c.call(
                "loyalty_plus.card",
                "add_stamp",
                [[card[0]]],
                {"staff_pin_id": info["staff"], "pin": "1234", "shop_id": shop},
            )

        def earn(c, card):
            return c.call(
                "loyalty_plus.card", "earn_points", [[card[0]], 12.5], {"order_ref": str(uuid.uuid4()), "shop_id": shop}
            )

        def redeem(c, card):
            return c.call("loyalty_plus.card", "redeem_reward", [[card[0]], info["reward"]], {"shop_id": shop})

        calls = {"read": read, "write": write, "lookup": lookup, "stamp": stamp, "earn": earn, "redeem": redeem}
        rows = {
            "read (1 record)": "read",
            "write (1 record)": "write",
            "lookup": "lookup",
            "stamp": "stamp",
            "earn": "earn",
            "redeem": "redeem",
        }
        boot = None
        if args.open_loop:
            tills = [cards[i :: args.tills] for i in range(args.tills)]
            if any(not till for till in tills):
                raise SystemExit(f"{args.tills} tills need at least {args.tills} cards; {len(cards)} known")
            sessions = [login.clone() for _till in tills]

            def call_ops(till, kind, seq):
                own = tills[till]
                calls[kind](sessions[till], own[seq % len(own)])

            def call_bare(till, kind, seq):
                own = tills[till]
                calls[lib.BARE[kind]](sessions[till], own[seq % len(own)])

            def warm():
                client = login.clone()
                for _i in range(8):
                    for op in calls.values():
                        op(client, tills[0][0])

            print(
                f"{len(cards)} cards among {args.tills} tills ({min(map(len, tills))}-{max(map(len, tills))} each), "
                f"one web session for all; {args.cards:,d} members, server with --workers 4"
            )
            lib.open_loop(args, call_ops, call_bare, warm=warm)
        elif not args.boot_only:
            results = {}
            for op in calls.values():  # warm every worker's caches
                measure(login, 4, 3, lambda c, i, op=op: op(c, cards[i % len(cards)]))
            print(
                f"\n{'operation':<16} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p50/read':>9} {'p95/read':>9}"
                f" {'p50/write':>10} {'p95/write':>10}"
            )
            for clients in (1, 16):
                n = args.calls if clients == 1 else max(args.calls // 4, 5)
                for name, kind in rows.items():
                    lat = measure(login, clients, n, lambda c, i, op=calls[kind]: op(c, cards[i % len(cards)]))
                    results[(name, clients)] = lib.p50_p95(lat)
                read50, read95 = results[("read (1 record)", clients)]
                write50, write95 = results[("write (1 record)", clients)]
                for name in rows:
                    p50, p95 = results[(name, clients)]
                    print(
                        f"{name:<16} {clients:>7} {p50:>8.1f} {p95:>8.1f} {p50 / read50:>9.2f} {p95 / read95:>9.2f}"
                        f" {p50 / write50:>10.2f} {p95 / write95:>10.2f}"
                    )
        if not args.open_loop:
            boot = boot_payload(base, db, info["config"])
        if args.count_writes:
            client = login.clone()
            lib.count_writes(
                db, {name: (lambda i, op=calls[kind]: op(client, cards[i % len(cards)])) for name, kind in rows.items()}
            )
    finally:
        lib.stop_server(proc)
    if boot is None:
        return
    proc = lib.start_server(base_db, args.port, log_path=f"/tmp/bench_pos_{args.port}.log")
    try:
        base_boot = boot_payload(base, base_db, base_info["config"])
    finally:
        lib.stop_server(proc)
    print_boot(args.cards, info, base_info, boot, base_boot)


if __name__ == "__main__":
    main()
