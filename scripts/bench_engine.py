#!/usr/bin/env python3
"""Engine throughput: earn and stamp operations per second, on one hot card and spread over many.

Not a test: it prints figures. Each operation runs in its own transaction (commit), as an RPC would.
usage: .cache/venv/bin/python scripts/bench_engine.py [--db lp_bench_engine] [--cards 10000] [--ops 2000]
The database is created from the test template on first use (scripts/test.sh builds the template).
"""

import argparse
import logging
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".cache/odoo-root/usr/lib/python3/dist-packages"))

import odoo  # noqa: E402
from odoo import api  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import config  # noqa: E402


def sh(cmd):
    return subprocess.run(["bash", "-c", f"source {ROOT}/scripts/lib.sh && {cmd}"], check=True, capture_output=True)


def prepare(db, n_cards):
    exists = subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout
    if f" {db} " not in exists:
        template = sh("lp_template_name").stdout.decode().strip()
        if f" {template} " not in exists:
            sys.exit("run scripts/test.sh once first: it builds the template database")
        sh(f"odoo db -c $ODOO_CONF duplicate -f {template} {db}")
        sh(f"odoo -c $ODOO_CONF -d {db} -i loyalty_plus --stop-after-init --log-level=warn")
    else:  # a database of an earlier run: bring it to the code measured
        sh(f"odoo -c $ODOO_CONF -d {db} -u loyalty_plus --stop-after-init --log-level=warn")
    config.parse_config(["-c", os.path.join(ROOT, ".cache/odoo.conf"), "-d", db, "--log-level=warn"])
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        program = env["loyalty_plus.program"].search([("name", "=", "Bench")], limit=1)
        if not program:
            company = env["res.company"].create({"name": "Bench Bakery", "currency_id": env.ref("base.EUR").id})
            program = env["loyalty_plus.program"].create(
                {
                    "name": "Bench",
                    "company_id": company.id,
                    "program_type": "hybrid",
                    "points_per_euro": 1,
                    "stamp_cooldown_minutes": 0,
                    "max_stamps_per_day": 0,
                    "require_staff_pin": True,
                }
            )
            env["loyalty_plus.staff_pin"].create(
                {"name": "Bench", "program_id": program.id, "shop_id": company.id, "new_pin": "1234"}
            )
            for i in range(49):  # a shop with 50 staff PINs
                env["loyalty_plus.staff_pin"].create(
                    {"name": f"Staff {i}", "program_id": program.id, "shop_id": company.id, "new_pin": f"{5000 + i}"}
                )
            # cards and partners with set-based SQL
            cr.execute(
                """WITH p AS (
                     INSERT INTO res_partner (name, email, active, type, autopost_bills, create_date, write_date)
                     SELECT 'Bench ' || g, 'bench' || g || '@example.com', true, 'contact', 'ask', now(), now()
                       FROM generate_series(1, %s) g RETURNING id)
                   INSERT INTO loyalty_plus_card (card_number, partner_id, program_id, company_id, shop_id,
                          cross_location, active, stamp_count, total_stamps_earned, total_stamps_redeemed,
                          points_balance, total_points_earned, total_points_redeemed, total_points_voided,
                          total_points_expired, create_date, write_date)
                   SELECT lpad((900000000000 + p.id)::text, 12, '0'), p.id, %s, %s, %s, true, true,
                          0, 0, 0, 0, 0, 0, 0, 0, now(), now() FROM p""",
                [n_cards, program.id, company.id, company.id],
            )
        cr.execute("SELECT id FROM loyalty_plus_card WHERE program_id = %s ORDER BY id", [program.id])
        card_ids = [r[0] for r in cr.fetchall()]
        staff = env["loyalty_plus.staff_pin"].search([("program_id", "=", program.id), ("name", "=", "Bench")])
        return registry, program.company_id.id, card_ids, staff.id


def run(registry, op, card_ids, n_ops, threads, company_id, staff_id):
    counter = iter(range(n_ops))
    lock = threading.Lock()
    errors = []

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            card_id = card_ids[i % len(card_ids)]
            with registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [company_id]})
                card = env["loyalty_plus.card"].browse(card_id)
                for _attempt in range(5):
                    try:
                        if op == "earn":
                            card.earn_points(12.5, order_ref=f"B{time.time_ns()}-{i}")
                        else:
                            card.add_stamp(staff_pin_id=staff_id, pin="1234")
                        cr.commit()
                        break
                    except odoo.exceptions.UserError as e:
                        cr.rollback()
                        errors.append(str(e))
                        break
                    except Exception:
                        cr.rollback()
                        env.transaction.reset()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    return n_ops / elapsed, errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="lp_bench_engine")
    parser.add_argument("--cards", type=int, default=10000)
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    # serialization failures on the hot card are expected and retried: keep them out of the output
    logging.getLogger("odoo.sql_db").setLevel(logging.CRITICAL)
    registry, company_id, card_ids, staff_id = prepare(args.db, args.cards)
    print(f"database {args.db}: {len(card_ids)} cards, 50 staff PINs, PIN checked on every stamp")
    for op in ("earn", "stamp"):
        for label, ids in (("one hot card", card_ids[:1]), (f"spread over {len(card_ids)} cards", card_ids)):
            for threads in (1, 2):
                rate, errors = run(registry, op, ids, args.ops, threads, company_id, staff_id)
                note = f" ({len(errors)} refused: {errors[0]})" if errors else ""
                print(f"{op:5} {label:28} {threads} thread(s): {rate:8.0f} ops/s{note}")


if __name__ == "__main__":
    main()
