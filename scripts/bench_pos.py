#!/usr/bin/env python3
"""Benchmark of the Loyalty+ POS calls (not a test: it prints its figures).

    .cache/venv/bin/python scripts/bench_pos.py [--cards 100000] [--port 8104] [--calls 40]

1. Copies the template database twice: ``lp_pos_bench`` (+ loyalty_plus_pos) and
   ``lp_pos_bench_base`` (point_of_sale without any Loyalty+ addon).
2. Seeds ``--cards`` members on the first (partners, cards and one ledger row each, set-based SQL).
3. Starts Odoo with ``--workers 4`` on ``--port`` and measures, for 1 and 16 concurrent clients,
   p50/p95 of a bare one-record ``read`` (the budget unit), ``pos_search`` (lookup),
   ``add_stamp`` (with a staff PIN), ``earn_points`` and ``redeem_reward``.
4. Prints the POS boot payload (``pos.session.load_data`` JSON bytes) with and without the addon.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ODOO_ROOT = ROOT / ".cache/odoo-root"
PYTHONPATH = ODOO_ROOT / "usr/lib/python3/dist-packages"
ODOO = [str(ROOT / ".cache/venv/bin/python"), str(ODOO_ROOT / "usr/bin/odoo")]
CONF = os.environ.get("LP_ODOO_CONF", str(ROOT / ".cache/odoo.conf"))
TEMPLATE = (
    os.environ.get("LP_TEMPLATE_DB")
    or subprocess.run(
        ["bash", "-c", f"source {ROOT}/scripts/lib.sh && lp_template_name"], capture_output=True, text=True, check=True
    ).stdout.strip()
)
ENV = dict(os.environ, PYTHONPATH=str(PYTHONPATH))

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
        INSERT INTO res_partner (name, email, active, type, autopost_bills, is_company, create_date, write_date,
                                 complete_name)
        SELECT 'Bench member ' || n, 'bench' || n || '@example.com', true, 'contact', 'ask', false, now(), now(),
               'Bench member ' || n
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
# the per-user rate limit guards the public API; here one login stands for 16 tills
for action in ("stamp", "earn", "redeem", "lookup"):
    env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
env["res.users"].browse(2).password = "admin"
env.cr.commit()
print("BENCH", json.dumps({"config": config.id, "reward": reward.id, "staff": staff.id, "company": company.id,
                           "numbers": numbers[:2000]}))
"""

BASE_SETUP = r"""
company = env.company
Config = env["pos.config"]
config = Config.search([("company_id", "=", company.id)], limit=1)
if not config:
    journal, pms = Config._create_journal_and_payment_methods()
    config = Config.create({"name": "Bench till", "journal_id": journal.id, "payment_method_ids": pms})
env["res.users"].browse(2).password = "admin"
env.cr.commit()
print("BENCH", json.dumps({"config": config.id}))
"""


def run(cmd, **kwargs):
    return subprocess.run(cmd, env=ENV, check=True, text=True, capture_output=True, **kwargs)


def prepare(db, modules, setup, cards):
    subprocess.run([*ODOO, "db", "-c", CONF, "drop", db], env=ENV, capture_output=True)
    run([*ODOO, "db", "-c", CONF, "duplicate", "-f", TEMPLATE, db])
    if modules:
        run([*ODOO, "-c", CONF, "-d", db, "-i", modules, "--stop-after-init", "--no-http", "--log-level=warn"])
    out = run(
        [*ODOO, "shell", "-c", CONF, "-d", db, "--no-http", "--log-level=warn"],
        input="import json\n" + setup % {"cards": cards},
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    return json.loads(line[6:])


# what the web client (and the POS) sends with every call
CONTEXT = {"context": {"lang": "en_US", "tz": "Europe/Luxembourg"}}


class Client:
    def __init__(self, base, db):
        self.base = base
        self.session = requests.Session()
        r = self.session.post(
            f"{base}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}},
        )
        r.raise_for_status()
        assert r.json().get("result"), r.text

    def call(self, model, method, args, kwargs=None):
        r = self.session.post(
            f"{self.base}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "params": {"model": model, "method": method, "args": args, "kwargs": {**(kwargs or {}), **CONTEXT}},
            },
        )
        r.raise_for_status()
        body = r.json()
        if "error" in body:
            raise RuntimeError(body["error"]["data"]["message"])
        return body["result"], len(r.content)


def measure(base, db, clients, calls, operation):
    """Each of ``clients`` threads runs ``calls`` operations; returns the latencies (ms)."""
    sessions = [Client(base, db) for _ in range(clients)]
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


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def start_server(db, port):
    log = open(f"/tmp/bench_pos_{port}.log", "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [
            *ODOO,
            "server",
            "-c",
            CONF,
            "-d",
            db,
            "--db-filter",
            f"^{db}$",
            "--http-port",
            str(port),
            "--gevent-port",
            str(port + 1),
            "--workers",
            "4",
            "--max-cron-threads",
            "0",
            os.environ.get("LP_BENCH_LOG", "--log-level=warn"),
            "--limit-time-real",
            "600",
        ],
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(120):
        try:
            if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.terminate()
    sys.exit("the benchmark server did not start")


def boot_payload(base, db, config_id):
    client = Client(base, db)
    client.call("pos.config", "open_ui", [[config_id]])
    session_id, _size = client.call("pos.config", "read", [[config_id], ["current_session_id"]])
    session = session_id[0]["current_session_id"][0]
    start = time.perf_counter()
    data, size = client.call("pos.session", "load_data", [[session], []])
    elapsed = (time.perf_counter() - start) * 1000
    return size, elapsed, len(data.get("loyalty_plus.card", [])) if isinstance(data, dict) else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--calls", type=int, default=40, help="calls per client and operation")
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    db, base_db = "lp_pos_bench", "lp_pos_bench_base"
    info_path = Path("/tmp/lp_pos_bench.json")
    if args.skip_prepare and info_path.exists():
        info, base_info = json.loads(info_path.read_text())
    else:
        t0 = time.time()
        info = prepare(db, "loyalty_plus_pos", SETUP, args.cards)
        base_info = prepare(base_db, None, BASE_SETUP, 0)
        info_path.write_text(json.dumps([info, base_info]))
        print(f"prepared {args.cards} cards in {time.time() - t0:.0f}s")

    results = {}
    proc = start_server(db, args.port)
    base = f"http://127.0.0.1:{args.port}"
    try:
        numbers = info["numbers"]
        warm = Client(base, db)
        partner_ids = warm.call("res.partner", "search", [[["name", "=like", "Bench member%"]]], {"limit": 400})[0]
        partner_id = partner_ids[0]
        card_ids = warm.call("loyalty_plus.card", "search", [[["card_number", "in", numbers]]], {"order": "id"})[0]
        shop = info["company"]

        ops = {
            "read (1 record)": lambda c, i: c.call("res.partner", "read", [[partner_id], ["name"]]),
            # a bare committed write, for scale: every loyalty operation but the lookup writes and commits
            "write (1 record)": lambda c, i: c.call(
                "res.partner", "write", [[partner_ids[i % len(partner_ids)]], {"comment": str(i)}]
            ),
            "lookup": lambda c, i: c.call(
                "loyalty_plus.card", "pos_search", [numbers[i % len(numbers)], info["config"]]
            ),
            "stamp": lambda c, i: c.call(
                "loyalty_plus.card",
                "add_stamp",
                [[card_ids[i % len(card_ids)]]],
                {"staff_pin_id": info["staff"], "pin": "1234", "shop_id": shop},
            ),
            "earn": lambda c, i: c.call(
                "loyalty_plus.card",
                "earn_points",
                [[card_ids[i % len(card_ids)]], 12.5],
                {"order_ref": str(uuid.uuid4()), "shop_id": shop},
            ),
            "redeem": lambda c, i: c.call(
                "loyalty_plus.card", "redeem_reward", [[card_ids[i % len(card_ids)]], info["reward"]], {"shop_id": shop}
            ),
        }
        for op in ops.values():  # warm every worker's caches
            measure(base, db, 4, 3, op)
        print(
            f"\n{'operation':<16} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p50/read':>9} {'p95/read':>9}"
            f" {'p50/write':>10}"
        )
        for clients in (1, 16):
            calls = args.calls if clients == 1 else max(args.calls // 4, 5)
            for name, op in ops.items():
                lat = measure(base, db, clients, calls, op)
                results[(name, clients)] = (statistics.median(lat), pct(lat, 95))
            ref50, ref95 = results[("read (1 record)", clients)]
            write50 = results[("write (1 record)", clients)][0]
            for name in ops:
                p50, p95 = results[(name, clients)]
                print(
                    f"{name:<16} {clients:>7} {p50:>8.1f} {p95:>8.1f} {p50 / ref50:>9.2f} {p95 / ref95:>9.2f}"
                    f" {p50 / write50:>10.2f}"
                )
        size, ms, cards_loaded = boot_payload(base, db, info["config"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    proc = start_server(base_db, args.port)
    try:
        base_size, base_ms, _ = boot_payload(base, base_db, base_info["config"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("\nPOS boot payload (pos.session.load_data, JSON bytes):")
    print(f"  without Loyalty+            : {base_size:>9,d} bytes  {base_ms:.0f} ms")
    print(
        f"  with loyalty_plus_pos ({args.cards:,d} cards): {size:>9,d} bytes  {ms:.0f} ms, "
        f"cards in payload: {cards_loaded}"
    )
    print(f"  difference                  : {size - base_size:>+9,d} bytes")


if __name__ == "__main__":
    main()
