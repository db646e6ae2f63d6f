#!/usr/bin/env python3
"""Benchmark of an earning with the program's campaigns and earning rules (not a test).

The API's ``earn`` with the order's lines (four lines of products of ten categories) on the
database of bench_api.py (``--cards`` cards, 1,000,000 by default), in two variants of the same
program: "rules": 20 campaigns running now (multipliers, bonuses, first visit of the month; some
for a shop, a tier, weekdays, hours, a minimum spend or a category; two with caps) and 10 category
rules (5 rates, 5 multipliers); "plain": the same program with those archived. The variants
alternate round by round (plain, rules, rules, plain...), switched by SQL and the ORM's cache
signaling, so that the machine's other load weighs on both alike. Prints p50/p95 (ms) of each
variant for 1 and 16 clients (each on cards of its own) and the ratio rules/plain.

    .cache/venv/bin/python scripts/bench_earn.py --db lp_api_bench             # seeds the database
    .cache/venv/bin/python scripts/bench_earn.py --db lp_api_bench --reuse     # a database seeded before

``LP_ODOO_CONF`` chooses the Odoo configuration (addons path) as for the other benchmarks.
"""

import argparse
import concurrent.futures
import datetime
import itertools
import json
import os
import random
import sys
import threading
import time
import uuid

import bench_api
import bench_lib as lib
import psycopg2
import requests

CATEGORIES = 10
LINES_PER_ORDER = 4

# the program's campaigns and rules, made once (found again by their names on a later run)
CAMPAIGNS = """
import json
from datetime import timedelta
from odoo import fields
integration = env["loyalty_plus.integration"].search([("name", "=", "Bench")], limit=1)
company = integration.company_id
program = env["loyalty_plus.program"].search([("company_id", "=", company.id), ("name", "=", "Bench")], limit=1)
program.write({"minimum_purchase": 0, "campaign_stacking": "best"})
Category = env["product.category"]
Product = env["product.product"]
categories, products = [], []
for i in range({categories}):
    category = Category.search([("name", "=", f"Bench category {i}")], limit=1) or Category.create(
        {"name": f"Bench category {i}"})
    product = Product.search([("name", "=", f"Bench product {i}")], limit=1) or Product.create(
        {"name": f"Bench product {i}", "categ_id": category.id, "list_price": 2 + i})
    categories.append(category)
    products.append(product)
Rule = env["loyalty_plus.earning_rule"].with_context(active_test=False)
Campaign = env["loyalty_plus.campaign"].with_context(active_test=False)
tier = env["loyalty_plus.tier"].search([("program_id", "=", program.id), ("name", "=", "Bench Gold")], limit=1) or \\
    env["loyalty_plus.tier"].create({"name": "Bench Gold", "program_id": program.id, "threshold_points": 10**9})
if not Rule.search_count([("program_id", "=", program.id), ("name", "=like", "Bench rule %")]):
    for i in range(5):
        Rule.create({"program_id": program.id, "name": f"Bench rule {i}", "rule_type": "points_spend",
                     "points_per_euro": 12 + i, "category_ids": [categories[i].id]})
    for i in range(5, 10):
        Rule.create({"program_id": program.id, "name": f"Bench rule {i}", "rule_type": "points_multiplier",
                     "multiplier": 1 + i / 10, "category_ids": [categories[i].id]})
if not Campaign.search_count([("program_id", "=", program.id), ("name", "=like", "Bench campaign %")]):
    # every weekday but the one after tomorrow: running during the benchmark, and checked
    off = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[
        (fields.Date.today().weekday() + 2) % 7]
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    weekdays = {day: day != off for day in days}
    start, end = fields.Datetime.now() - timedelta(days=30), fields.Datetime.now() + timedelta(days=365)
    specs = []
    for i in range(6):
        specs.append({"campaign_type": "multiplier", "multiplier": 1.5 + i / 4,
                      **({"category_ids": [categories[i].id]} if i % 2 else {}),
                      **({"shop_ids": [company.id]} if i == 0 else {})})
    for i in range(6):
        specs.append({"campaign_type": "bonus", "bonus_points": 5 + 5 * i,
                      **({"minimum_amount": 5} if i % 2 else {}), **(weekdays if i == 1 else {}),
                      **({"hour_from": 0, "hour_to": 24} if i == 2 else {})})
    for i in range(4):
        specs.append({"campaign_type": "first_visit_month", "bonus_points": 10 + i,
                      **({"date_start": start, "date_end": end} if i == 0 else {})})
    specs.append({"campaign_type": "bonus", "bonus_points": 3, "max_uses": 10**9})
    specs.append({"campaign_type": "bonus", "bonus_points": 4, "max_uses_per_member": 10**6})
    specs.append({"campaign_type": "multiplier", "multiplier": 5, "tier_ids": [tier.id]})
    specs.append({"campaign_type": "bonus", "bonus_points": 100, "tier_ids": [tier.id], **weekdays})
    for i, spec in enumerate(specs):
        Campaign.create({"program_id": program.id, "name": f"Bench campaign {i}", **spec})
rules = Rule.search([("program_id", "=", program.id), ("name", "=like", "Bench rule %")])
campaigns = Campaign.search([("program_id", "=", program.id), ("name", "=like", "Bench campaign %")])
env.cr.commit()
print("BENCH", json.dumps({"products": [p.id for p in products], "rules": rules.ids, "campaigns": campaigns.ids,
                           "running": campaigns.filtered(lambda c: c.state == "running").ids}))
""".replace("{categories}", str(CATEGORIES))


def switch(db, catalog, on):
    """The variant: the benchmark's rules and campaigns active or archived, and every worker told
    to forget its copy of the program's catalog (the ORM's cache signaling, as a write would)."""
    with psycopg2.connect(dbname=db) as conn, conn.cursor() as cr:
        cr.execute("UPDATE loyalty_plus_earning_rule SET active = %s WHERE id = ANY(%s)", [on, catalog["rules"]])
        cr.execute("UPDATE loyalty_plus_campaign SET active = %s WHERE id = ANY(%s)", [on, catalog["campaigns"]])
        cr.execute("INSERT INTO orm_signaling_default DEFAULT VALUES")


def order_lines(rng, products):
    return [
        {"product_id": product, "qty": rng.choice([1, 1, 2]), "price_incl": price, "price_excl": round(price / 1.17, 2)}
        for product, price in zip(
            rng.sample(products, LINES_PER_ORDER),
            (rng.choice([2.5, 3.2, 4.8, 7.5, 12.0]) for _i in range(LINES_PER_ORDER)),
            strict=True,
        )
    ]


def measure(api, cards, products, clients, calls):
    """Latencies (s) of ``calls`` earns by lines from ``clients`` clients, each on its own cards."""
    local = threading.local()
    client_ids = itertools.count()

    def earn(_i):
        if not hasattr(local, "session"):
            index = next(client_ids) % clients
            local.session = requests.Session()
            local.cards = cards[index::clients]
            local.rng = random.Random(index)
        card = local.rng.choice(local.cards)
        payload = {
            "idempotency_key": uuid.uuid4().hex,
            "card": card[1],
            "order_ref": uuid.uuid4().hex,
            "lines": order_lines(local.rng, products),
        }
        started = time.perf_counter()
        api.post(local.session, "loyalty_plus.api/earn", payload)
        return time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return list(pool.map(earn, range(calls)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="lp_api_bench")
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8204, help="HTTP port (the next one is the gevent port)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--calls", type=int, default=200, help="earns per variant, round and concurrency")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each variant, alternated")
    parser.add_argument("--reuse", action="store_true", help="reuse a database seeded before")
    args = parser.parse_args()

    if args.reuse:
        print(f"updating loyalty_plus in {args.db}", flush=True)
        lib.odoo(
            "-c", lib.CONF, "-d", args.db, "-u", "loyalty_plus", "--stop-after-init", "--no-http", "--log-level=warn"
        )
        setup = json.loads(lib.shell_output(args.db, bench_api.REUSE))
    else:
        setup = bench_api.prepare(args.db, args.cards)
        print("reuse with: --reuse")
    catalog = json.loads(lib.shell_output(args.db, CAMPAIGNS))
    with psycopg2.connect(dbname=args.db) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM loyalty_plus_card")
        total_cards = cr.fetchone()[0]
        percent = max(1.0, min(100.0, 200.0 * bench_api.SAMPLE_CARDS / max(total_cards, 1)))
        cr.execute(
            f"SELECT id, card_number, partner_id FROM loyalty_plus_card TABLESAMPLE SYSTEM ({percent:.2f}) "
            "WHERE id != %s LIMIT %s",
            [setup["card"], bench_api.SAMPLE_CARDS],
        )
        cards = cr.fetchall()
    server = lib.start_server(args.db, args.port, args.workers, log_path=f"/tmp/bench_earn_{args.port}.log")
    api = bench_api.Api(f"http://127.0.0.1:{args.port}", setup)
    products = catalog["products"]
    try:
        print(
            f"\n{total_cards} cards, server with {args.workers} workers; {os.cpu_count()} CPU cores for the server, "
            f"PostgreSQL and the clients together; earn by {LINES_PER_ORDER} lines; "
            f"rules: {len(catalog['running'])} campaigns running and {len(catalog['rules'])} category rules; "
            f"{args.rounds} rounds of {args.calls} calls per variant, alternated "
            f"({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC)",
            flush=True,
        )
        print(f"{'clients':>7} {'variant':<7} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8}")
        for clients in (1, 16):
            samples = {"plain": [], "rules": []}
            for round_ in range(args.rounds):
                for variant in ("plain", "rules") if round_ % 2 == 0 else ("rules", "plain"):
                    switch(args.db, catalog, variant == "rules")
                    measure(api, cards, products, clients, max(clients * 4, 20))  # warm-up: every worker's copy
                    samples[variant] += measure(api, cards, products, clients, args.calls)
            figures = {name: [v * 1000 for v in lib.p50_p95(values)] for name, values in samples.items()}
            for name, (p50, p95) in figures.items():
                print(f"{clients:>7} {name:<7} {len(samples[name]):>6} {p50:>8.1f} {p95:>8.1f}")
            (plain50, plain95), (rules50, rules95) = figures["plain"], figures["rules"]
            print(f"{clients:>7} {'ratio':<7} {'':>6} {rules50 / plain50:>8.2f} {rules95 / plain95:>8.2f}", flush=True)
    finally:
        # archived: bench_api.py measures the plain program on the same database
        switch(args.db, catalog, False)
        lib.stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
