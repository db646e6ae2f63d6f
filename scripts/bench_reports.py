#!/usr/bin/env python3
"""Benchmark of the Loyalty+ reports and dashboard (issue 15). Not a test: it prints figures.

It copies a database where loyalty_plus, loyalty_plus_pos (and loyalty_plus_dashboard) are installed
into a scratch database, seeds it with set-based SQL (``generate_series``): one merchant with
``--shops`` shops, ``--cards`` members enrolled over two years, ``--rows`` ledger rows spread over
their lives (earns, stamps, redemptions, expiries, voids, adjustments, bonuses, by ten staff PINs),
``--orders`` paid POS orders (a share of them by members); then refreshes the reports' summaries (the
hourly cron's work, timed) and times, as the merchant's manager, what each report's default view
asks the server (the read_group calls of its graph or pivot, or the first page of its list, with the
action's default filter) and what the dashboard's pivots and charts ask. Best of ``--repeat`` runs,
and the first run.

usage (from the repository root):
    source scripts/lib.sh
    "$VENV/bin/python" scripts/bench_reports.py --source <db with the modules installed> [--rows 10000000]
"""

import argparse
import os
import sys
import time
from datetime import date

from dateutil.relativedelta import relativedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = os.path.join(ROOT, ".cache", "odoo.conf")
sys.path.insert(0, os.path.join(ROOT, ".cache/odoo-root/usr/lib/python3/dist-packages"))

BATCH = 1_000_000  # ledger rows per INSERT (one commit each)


def registry_of(dbname):
    from odoo.modules.registry import Registry
    from odoo.service import server
    from odoo.tools import config

    config.parse_config(["-c", CONF, "--log-level=warn"])
    server.load_server_wide_modules()
    return Registry(dbname)


def step(message):
    print(f"==> {message}", flush=True)


def copy_database(source, target):
    from odoo.service import db
    from odoo.tools import config

    config.parse_config(["-c", CONF, "--log-level=warn"])
    if db.exp_db_exist(target):
        db.exp_drop(target)
    db.exp_duplicate_database(source, target)


def seed(registry, args):
    from odoo import api
    from odoo.fields import Command

    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        eur = env.ref("base.EUR")
        merchant = env["res.company"].create({"name": "Bench Merchant", "currency_id": eur.id})
        shops = merchant | env["res.company"].create(
            [{"name": f"Bench Shop {i}", "parent_id": merchant.id} for i in range(1, args.shops)]
        )
        program = env["loyalty_plus.program"].create(
            {
                "name": "Bench Rewards",
                "company_id": merchant.id,
                "program_type": "hybrid",
                "points_per_euro": 10,
                "point_value": 0.005,
                "require_staff_pin": False,
            }
        )
        pins = env["loyalty_plus.staff_pin"].create(
            [
                {"name": f"Staff {i}", "program_id": program.id, "shop_id": shops[i % len(shops)].id, "new_pin": "1234"}
                for i in range(2 * len(shops))
            ]
        )
        manager = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Bench Manager",
                    "login": "bench_manager",
                    "company_id": merchant.id,
                    "company_ids": [Command.set(shops.ids)],
                    "group_ids": [
                        Command.set(
                            [env.ref("base.group_user").id, env.ref("loyalty_plus.group_loyalty_plus_manager").id]
                        )
                    ],
                }
            )
        )
        env.flush_all()
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM res_partner")
        partner_base = cr.fetchone()[0]
        cr.execute(
            """INSERT INTO res_partner (name, complete_name, email, active, type, autopost_bills,
                                        create_date, write_date)
               SELECT 'Bench member ' || g, 'Bench member ' || g, 'member' || g || '@example.com', TRUE, 'contact',
                      'ask', now(), now()
                 FROM generate_series(1, %s) g""",
            [args.cards],
        )
        # enrolled over the last two years, each in one of the shops
        cr.execute(
            """INSERT INTO loyalty_plus_card (card_number, partner_id, program_id, company_id, shop_id,
                                              cross_location, active, marketing_consent, stamp_count,
                                              total_stamps_earned, total_stamps_redeemed, points_balance,
                                              total_points_earned, total_points_redeemed, total_points_voided,
                                              total_points_expired, create_date, write_date, create_uid, write_uid)
               SELECT 'BENCH' || lpad(g::text, 10, '0'), %s + g, %s, %s, (%s::int[])[1 + g %% %s], TRUE, TRUE,
                      g %% 2 = 0, 0, 0, 0, 0, 0, 0, 0, 0,
                      now() AT TIME ZONE 'UTC' - make_interval(secs => random() * 730 * 86400),
                      now() AT TIME ZONE 'UTC', 1, 1
                 FROM generate_series(1, %s) g""",
            [partner_base, program.id, merchant.id, shops.ids, len(shops), args.cards],
        )
        card_base = bench_card_base(cr)
        cr.commit()
        return merchant, shops, program, pins, manager, card_base


def bench_card_base(cr):
    """The id before the first seeded card (the ids follow the sequence, not the table's maximum)."""
    cr.execute("SELECT MIN(id) - 1 FROM loyalty_plus_card WHERE card_number LIKE 'BENCH%'")
    return cr.fetchone()[0]


def seed_ledger(registry, args, merchant_id, program_id, shop_ids, pin_ids, card_base):
    with registry.cursor() as cr:
        cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'loyalty_plus_transaction' "
            "AND indexname != 'loyalty_plus_transaction_pkey'"
        )
        indexes = cr.fetchall()
        for name, _definition in indexes:
            cr.execute(f'DROP INDEX "{name}"')
        cr.commit()
        for low in range(1, args.rows + 1, BATCH):
            high = min(args.rows, low + BATCH - 1)
            started = time.perf_counter()
            cr.execute(
                """
                INSERT INTO loyalty_plus_transaction (card_id, program_id, company_id, shop_id, transaction_type,
                                                      stamps_delta, points_delta, amount, currency_id, staff_pin_id,
                                                      user_id, create_date, create_uid, write_date, write_uid)
                SELECT card.id, %(program)s, %(merchant)s,
                       CASE WHEN src.kind = 'points_expired' THEN NULL
                            ELSE (%(shops)s::int[])[1 + src.g %% %(nshops)s] END,
                       src.kind,
                       CASE src.kind WHEN 'stamp_earned' THEN 1 WHEN 'stamp_redeemed' THEN -5
                                     WHEN 'stamp_voided' THEN -1 ELSE 0 END,
                       CASE src.kind WHEN 'points_earned' THEN floor(src.amount * 10)::int
                                     WHEN 'points_redeemed' THEN -100 WHEN 'points_expired' THEN -20
                                     WHEN 'points_voided' THEN -10 WHEN 'points_adjusted' THEN 5
                                     WHEN 'bonus' THEN 20 ELSE 0 END,
                       CASE WHEN src.kind = 'points_earned' THEN src.amount ELSE 0 END,
                       %(currency)s,
                       CASE WHEN src.kind IN ('points_expired', 'points_adjusted', 'bonus') THEN NULL
                            ELSE (%(pins)s::int[])[1 + (src.g %% %(nshops)s) + %(nshops)s * ((src.g / 7) %% 2)] END,
                       1,
                       card.create_date + (now() AT TIME ZONE 'UTC' - card.create_date) * src.r2,
                       1, now() AT TIME ZONE 'UTC', 1
                  FROM (SELECT g, %(card_base)s + 1 + (g::bigint * 7919) %% %(cards)s AS card_id, random() AS r2,
                               round((5 + 45 * random())::numeric, 2) AS amount,
                               CASE WHEN r < 0.40 THEN 'points_earned' WHEN r < 0.70 THEN 'stamp_earned'
                                    WHEN r < 0.78 THEN 'points_redeemed' WHEN r < 0.80 THEN 'stamp_redeemed'
                                    WHEN r < 0.83 THEN 'points_expired' WHEN r < 0.86 THEN 'points_voided'
                                    WHEN r < 0.88 THEN 'points_adjusted' WHEN r < 0.92 THEN 'bonus'
                                    ELSE 'stamp_voided' END AS kind
                          FROM (SELECT g, random() AS r FROM generate_series(%(low)s, %(high)s) g) numbers
                       ) src
                  JOIN loyalty_plus_card card ON card.id = src.card_id
                """,
                {
                    "program": program_id,
                    "merchant": merchant_id,
                    "shops": shop_ids,
                    "nshops": len(shop_ids),
                    "pins": pin_ids,
                    "currency": registry_currency(cr, merchant_id),
                    "card_base": card_base,
                    "cards": args.cards,
                    "low": low,
                    "high": high,
                },
            )
            cr.commit()
            print(f"    ledger rows {high:,} ({time.perf_counter() - started:.1f} s)", flush=True)
        step("rebuilding the ledger's indexes")
        started = time.perf_counter()
        for _name, definition in indexes:
            cr.execute(definition)
        cr.commit()
        print(f"    {len(indexes)} indexes in {time.perf_counter() - started:.1f} s", flush=True)
        step("card balances from the ledger")
        cr.execute(
            """UPDATE loyalty_plus_card card
                  SET points_balance = GREATEST(sums.points, 0), stamp_count = GREATEST(sums.stamps, 0),
                      last_activity_date = sums.last
                 FROM (SELECT card_id, SUM(points_delta) AS points, SUM(stamps_delta) AS stamps,
                              MAX(create_date) AS last
                         FROM loyalty_plus_transaction WHERE program_id = %s GROUP BY card_id) sums
                WHERE card.id = sums.card_id""",
            [program_id],
        )
        cr.execute("ANALYZE loyalty_plus_transaction")
        cr.execute("ANALYZE loyalty_plus_card")
        cr.commit()


def registry_currency(cr, company_id):
    cr.execute("SELECT currency_id FROM res_company WHERE id = %s", [company_id])
    return cr.fetchone()[0]


def seed_orders(registry, args, shop_ids, card_base):
    with registry.cursor() as cr:
        cr.execute("SELECT id FROM stock_picking_type ORDER BY id LIMIT 1")
        picking_type = cr.fetchone()[0]
        sessions, configs = [], []
        for shop in shop_ids:
            cr.execute(
                """INSERT INTO pos_config (name, company_id, picking_type_id, iface_tax_included, picking_policy,
                                           active, create_date, write_date)
                   VALUES (%s, %s, %s, 'total', 'direct', TRUE, now(), now()) RETURNING id""",
                [f"Bench till {shop}", shop, picking_type],
            )
            config = cr.fetchone()[0]
            cr.execute(
                """INSERT INTO pos_session (name, config_id, user_id, state, create_date, write_date)
                   VALUES (%s, %s, 1, 'closed', now(), now()) RETURNING id""",
                [f"BENCH/{shop}", config],
            )
            sessions.append(cr.fetchone()[0])
            configs.append(config)
        cr.execute("SELECT id FROM res_partner WHERE name = 'Bench member 1'")
        partner_base = cr.fetchone()[0] - 1
        for low in range(1, args.orders + 1, BATCH):
            high = min(args.orders, low + BATCH - 1)
            started = time.perf_counter()
            # two orders in five by members (their card and its partner), the rest by others (one in
            # two named), over the last two years
            cr.execute(
                """
                INSERT INTO pos_order (name, session_id, config_id, company_id, state, date_order, partner_id,
                                       lp_card_id, amount_tax, amount_total, amount_paid, amount_return,
                                       create_date, write_date)
                SELECT 'BENCH-' || g, (%(sessions)s::int[])[1 + g %% %(nshops)s],
                       (%(configs)s::int[])[1 + g %% %(nshops)s],
                       (%(shops)s::int[])[1 + g %% %(nshops)s],
                       'paid', now() AT TIME ZONE 'UTC' - make_interval(secs => random() * 730 * 86400),
                       CASE WHEN g %% 5 < 2 THEN %(partner_base)s + 1 + (g::bigint * 31) %% %(cards)s
                            WHEN g %% 2 = 0 THEN %(partner_base)s + 1 + (g::bigint * 17) %% %(cards)s END,
                       CASE WHEN g %% 5 < 2 THEN %(card_base)s + 1 + (g::bigint * 31) %% %(cards)s END,
                       round(amount * 0.15, 2), amount, amount, 0, now(), now()
                  FROM (SELECT g, round((3 + 60 * random())::numeric, 2) AS amount
                          FROM generate_series(%(low)s, %(high)s) g) src
                """,
                {
                    "sessions": sessions,
                    "configs": configs,
                    "shops": shop_ids,
                    "nshops": len(shop_ids),
                    "partner_base": partner_base,
                    "card_base": card_base,
                    "cards": args.cards,
                    "low": low,
                    "high": high,
                },
            )
            cr.commit()
            print(f"    POS orders {high:,} ({time.perf_counter() - started:.1f} s)", flush=True)
        cr.execute("ANALYZE pos_order")
        cr.commit()


def default_views(today):
    """What each report's default view asks: (label, model, kind, domain, groupby list, aggregates) or a
    list page (kind "list": domain, fields, order)."""
    last_12 = (today.replace(day=1) - relativedelta(months=11)).isoformat()
    last_3 = (today.replace(day=1) - relativedelta(months=2)).isoformat()
    overview = [("month", ">=", last_12)]
    cohort = [("cohort_month", ">=", last_12)]
    revenue = [("date", ">=", last_12)]
    return {
        "Program overview (graph)": [
            ("loyalty_plus.report.overview", overview, ["month:month", "shop_id"], ["active_members:sum"]),
        ],
        "Cohort retention (pivot)": [
            ("loyalty_plus.report.cohort", cohort, [], ["retention_rate:avg"]),
            ("loyalty_plus.report.cohort", cohort, ["cohort_month:month"], ["retention_rate:avg"]),
            ("loyalty_plus.report.cohort", cohort, ["months_after"], ["retention_rate:avg"]),
            ("loyalty_plus.report.cohort", cohort, ["cohort_month:month", "months_after"], ["retention_rate:avg"]),
        ],
        "Members at risk (list)": [
            (
                "loyalty_plus.report.churn",
                [],
                "list",
                [
                    "card_id",
                    "partner_id",
                    "shop_id",
                    "visit_count",
                    "last_visit",
                    "median_interval",
                    "threshold_days",
                    "days_inactive",
                    "points_balance",
                    "marketing_consent",
                    "reengagement_sent_date",
                ],
            ),
        ],
        "Revenue attribution (graph)": [
            ("loyalty_plus.report.revenue", revenue, ["date:month", "customer_type"], ["revenue:sum"]),
        ],
        "Points liability (pivot)": [
            ("loyalty_plus.report.liability", [], [], ["points_outstanding:sum", "liability:sum"]),
            ("loyalty_plus.report.liability", [], ["company_id"], ["points_outstanding:sum", "liability:sum"]),
            (
                "loyalty_plus.report.liability",
                [],
                ["company_id", "shop_id"],
                ["points_outstanding:sum", "liability:sum"],
            ),
        ],
        "Fraud watch (list)": [
            (
                "loyalty_plus.report.fraud",
                [("month", ">=", last_3)],
                "list",
                [
                    "month",
                    "shop_id",
                    "staff_pin_id",
                    "user_id",
                    "stamps",
                    "stamps_per_hour",
                    "shop_stamps_per_hour",
                    "adjustments",
                    "voids",
                    "quick_refunds",
                    "burst_redemptions",
                    "pin_failures",
                    "pin_locks",
                    "flagged",
                ],
            ),
        ],
    }


def dashboard_calls(env):
    """The read_group calls behind the dashboard's pivots and charts (read from its spreadsheet data)."""
    from odoo.addons.loyalty_plus_dashboard.tests.test_dashboard import dashboard_read_groups

    return dashboard_read_groups(date.today())


def run_call(env, call):
    model = env[call[0]]
    if call[2] == "list":
        model.web_search_read(call[1], {name: {} for name in call[3]}, limit=80, count_limit=10001)
    else:
        model.formatted_read_group(call[1], call[2], call[3])


def measure(registry, args, manager_id, company_ids):
    from odoo import api

    results = []
    with registry.cursor() as cr:
        env = api.Environment(cr, manager_id, {"allowed_company_ids": company_ids, "lang": "en_US"})
        views = default_views(date.today())
        try:
            views["Dashboard data (all pivots and charts)"] = dashboard_calls(env)
        except ImportError:
            print("    (loyalty_plus_dashboard not installed: no dashboard figure)")
        for label, calls in views.items():
            timings = []
            for _ in range(args.repeat):
                env.invalidate_all()
                started = time.perf_counter()
                for call in calls:
                    run_call(env, call)
                timings.append(time.perf_counter() - started)
            results.append((label, timings[0], min(timings)))
            if label.startswith("Dashboard"):
                for call in calls:
                    started = time.perf_counter()
                    run_call(env, call)
                    name = f"{call[0].split('.')[-1]} by {','.join(call[2]) or 'nothing'}"
                    results.append((name, None, time.perf_counter() - started))
        cr.rollback()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, help="a database where the Loyalty+ modules are installed")
    parser.add_argument("--db", default="lp_reports_bench", help="the scratch database (dropped and re-created)")
    parser.add_argument("--rows", type=int, default=10_000_000, help="ledger rows")
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=2_000_000, help="paid POS orders")
    parser.add_argument("--shops", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="measure the seeded scratch database again")
    parser.add_argument(
        "--from-orders",
        action="store_true",
        help="the scratch database has its ledger: seed the orders, refresh, measure",
    )
    args = parser.parse_args()
    if not args.reuse:
        print(
            f"seeding: {args.rows:,} ledger rows, {args.cards:,} cards, {args.orders:,} POS orders, {args.shops} shops"
        )
    if not args.reuse and not args.from_orders:
        step(f"copying {args.source} to {args.db}")
        copy_database(args.source, args.db)
    registry = registry_of(args.db)
    if not args.reuse:
        started = time.perf_counter()
        if args.from_orders:
            with registry.cursor() as cr:
                card_base = bench_card_base(cr)
                cr.execute("SELECT id FROM res_company WHERE name = 'Bench Merchant'")
                merchant_id = cr.fetchone()[0]
                cr.execute("SELECT id FROM res_company WHERE id = %s OR parent_id = %s ORDER BY id", [merchant_id] * 2)
                shop_ids = [row[0] for row in cr.fetchall()]
        else:
            step("merchant, shops, members and cards")
            merchant, shops, program, pins, _manager, card_base = seed(registry, args)
            step("ledger")
            seed_ledger(registry, args, merchant.id, program.id, shops.ids, pins.ids, card_base)
            shop_ids = shops.ids
        step("POS orders")
        seed_orders(registry, args, shop_ids, card_base)
        print(f"    seeded in {time.perf_counter() - started:.0f} s")
        step("refreshing the reports' summaries (the hourly cron)")
        from odoo import api

        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            Report = env["loyalty_plus.report.mixin"]
            for model_name in Report._get_report_models():
                started = time.perf_counter()
                env[model_name]._refresh_summary()
                cr.commit()
                if env[model_name]._summarized:
                    print(f"    {model_name}: {time.perf_counter() - started:.1f} s")
            cr.execute("ANALYZE")
            cr.commit()
    with registry.cursor() as cr:
        counts = []
        for table in ("loyalty_plus_transaction", "loyalty_plus_card", "pos_order"):
            cr.execute(f"SELECT COUNT(*) FROM {table}")
            counts.append(cr.fetchone()[0])
        print("scale: {:,} ledger rows, {:,} cards, {:,} POS orders".format(*counts))
        cr.execute(
            "SELECT id, company_ids FROM (SELECT id FROM res_users WHERE login = 'bench_manager') u, "
            "LATERAL (SELECT array_agg(cid) AS company_ids FROM res_company_users_rel WHERE user_id = u.id) c"
        )
        manager_id, company_ids = cr.fetchone()
    step(f"default views as the merchant's manager (first run, best of {args.repeat})")
    worst = 0
    for label, first, best in measure(registry, args, manager_id, company_ids):
        if first is None:  # one call of the dashboard's
            print(f"        {label:<58} {best * 1000:8.1f} ms")
            continue
        worst = max(worst, best)
        print(f"    {label:<42} first {first * 1000:8.1f} ms   best {best * 1000:8.1f} ms")
    print(f"slowest default view: {worst * 1000:.1f} ms (target 1000 ms)")


if __name__ == "__main__":
    main()
