#!/usr/bin/env python3
"""Benchmark of the Loyalty+ points expiration cron (issue 7). Not a test: it prints figures.

It copies a database where loyalty_plus is installed into a scratch database, seeds it with fast SQL
(``--cards`` members with one card and one ledger row each, ``--due`` of them inactive for longer than
the program's expiry), then, each phase in a fresh process so that its peak memory is its own:

1. ``loop``: the plain per-card ORM loop (one ``_apply_ledger("points_expired")`` per card, the engine's
   own path) on ``--sample`` due cards, rolled back afterwards so that the cron sees the same data;
2. ``cron``: the expiration cron run end to end as the scheduler runs it (``method_direct_trigger``:
   chunks of EXPIRY_CHUNK cards, one commit each, in EXPIRY_WORKERS transactions side by side) until
   its last callback reports nothing left, with its wall time, scheduler runs and callbacks, and peak
   memory;
3. the ledger invariant checked over every card, and the rate of the "points expired" emails queued
   afterwards by their own cron (measured on a sample, rolled back).

usage (from the repository root):
    source scripts/lib.sh
    "${ODOO_CMD[@]:0:2}" "$VENV/bin/python" scripts/bench_expiration.py --source <db with loyalty_plus>
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = os.path.join(ROOT, ".cache", "odoo.conf")


def odoo_env(dbname):
    from odoo.modules.registry import Registry
    from odoo.service import server
    from odoo.tools import config

    config.parse_config(["-c", CONF, "--log-level=warn"])
    server.load_server_wide_modules()
    return Registry(dbname)


def phase_copy(args):
    import odoo  # noqa: F401
    from odoo.service import db
    from odoo.tools import config

    config.parse_config(["-c", CONF, "--log-level=warn"])
    if db.exp_db_exist(args.db):
        db.exp_drop(args.db)
    db.exp_duplicate_database(args.source, args.db)
    print(json.dumps({"copied": args.db}))


def phase_seed(args):
    from odoo import api
    from odoo.tools import SQL

    registry = odoo_env(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        company = env.ref("base.main_company")
        company.currency_id = env.ref("base.EUR")
        env["loyalty_plus.program"].search([("company_id", "=", company.id)]).action_archive()
        program = env["loyalty_plus.program"].create(
            {
                "name": "Bench program",
                "company_id": company.id,
                "program_type": "points",
                "points_expiration_days": 365,
                "minimum_redemption_points": 100,
            }
        )
        env["loyalty_plus.reward"].create(
            {
                "name": "Bench reward",
                "program_id": program.id,
                "points_cost": 500,
                "reward_kind": "amount",
                "discount_amount": 5,
            }
        )
        env.flush_all()
        t0 = time.perf_counter()
        cr.execute(
            SQL(
                """INSERT INTO res_partner (name, complete_name, email, active, type, is_company, autopost_bills,
                                           lang, create_date, write_date, create_uid, write_uid)
                   SELECT 'Member ' || g, 'Member ' || g, 'member' || g || '@bench.example', TRUE, 'contact',
                          FALSE, 'ask', 'en_US', now(), now(), 1, 1
                     FROM generate_series(1, %s) g""",
                args.cards,
            )
        )
        cr.execute(
            SQL(
                """CREATE TEMP TABLE bench_partner AS
                   SELECT id, row_number() OVER (ORDER BY id) AS n FROM res_partner
                    WHERE email LIKE '%%@bench.example'"""
            )
        )
        # due: one card in five, inactive for 400 days; the others active 10 days ago
        cr.execute(
            SQL(
                """INSERT INTO loyalty_plus_card (
                        partner_id, program_id, company_id, shop_id, cross_location, active, card_number,
                        stamp_count, total_stamps_earned, total_stamps_redeemed, points_balance,
                        total_points_earned, total_points_redeemed, total_points_voided, total_points_expired,
                        last_points_date, last_activity_date, marketing_consent,
                        create_date, write_date, create_uid, write_uid)
                   SELECT p.id, %(program)s, %(company)s, %(company)s, TRUE, TRUE, (10000000000 + p.n)::text || '0',
                          0, 0, 0, 50 + p.n %% 200, 50 + p.n %% 200, 0, 0, 0,
                          now() - CASE WHEN p.n %% 5 = 0 THEN interval '400 days' ELSE interval '10 days' END,
                          now() - CASE WHEN p.n %% 5 = 0 THEN interval '400 days' ELSE interval '10 days' END,
                          p.n %% 2 = 0, now(), now(), 1, 1
                     FROM bench_partner p""",
                program=program.id,
                company=company.id,
            )
        )
        cr.execute(
            SQL(
                """INSERT INTO loyalty_plus_transaction (
                        card_id, program_id, company_id, shop_id, transaction_type, stamps_delta, points_delta,
                        stamps_after, points_after, amount, currency_id, user_id,
                        create_date, write_date, create_uid, write_uid)
                   SELECT c.id, c.program_id, c.company_id, c.shop_id, 'points_earned', 0, c.points_balance,
                          0, c.points_balance, c.points_balance / 1.0, %(currency)s, 1,
                          c.last_activity_date, c.last_activity_date, 1, 1
                     FROM loyalty_plus_card c WHERE c.program_id = %(program)s""",
                program=program.id,
                currency=company.currency_id.id,
            )
        )
        cr.commit()
        seed_seconds = time.perf_counter() - t0
    conn_cr = registry.cursor()
    conn_cr._cnx.autocommit = True
    conn_cr.execute("VACUUM ANALYZE res_partner, loyalty_plus_card, loyalty_plus_transaction")
    conn_cr.close()
    print(json.dumps({"seed_seconds": round(seed_seconds, 1), "program_id": program.id}))


def phase_reset(args):
    """Undo a previous expiration run on an already seeded database (same data as after the seed)."""
    registry = odoo_env(args.db)
    with registry.cursor() as cr:
        cr.execute("DELETE FROM loyalty_plus_transaction WHERE transaction_type = 'points_expired'")
        cr.execute(
            """UPDATE loyalty_plus_card SET points_balance = points_balance + total_points_expired,
                      total_points_expired = 0, expired_notice_points = 0 WHERE total_points_expired > 0"""
        )
        cr.commit()
    conn_cr = registry.cursor()
    conn_cr._cnx.autocommit = True
    conn_cr.execute("VACUUM ANALYZE loyalty_plus_card, loyalty_plus_transaction")
    conn_cr.close()
    print(json.dumps({"reset": args.db}))


def due_ids(cr, limit):
    cr.execute(
        """SELECT card.id FROM loyalty_plus_card card
             JOIN loyalty_plus_program program ON program.id = card.program_id
            WHERE card.active AND program.active AND program.points_expiration_days > 0 AND card.points_balance > 0
              AND card.last_activity_date < now() at time zone 'UTC'
                  - make_interval(days => program.points_expiration_days)
            ORDER BY card.id LIMIT %s""",
        [limit],
    )
    return [row[0] for row in cr.fetchall()]


def phase_loop(args):
    """The per-card ORM loop the cron replaces, on a sample, rolled back: for each card, the ledger
    row made by the ORM's ``create`` and the balances set by the ORM's ``write`` (the model's guard
    against balance writes is for business code, not for this yardstick). Then, for scale, the
    engine's own per-card path (``_apply_ledger``: one INSERT and one UPDATE, plus its hooks) on
    ``--engine-sample`` cards."""
    from odoo import api, models

    registry = odoo_env(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        ids = due_ids(cr, args.sample)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        Transaction = env["loyalty_plus.transaction"]
        for card in env["loyalty_plus.card"].browse(ids):
            points = card.points_balance
            Transaction.create(
                {
                    "card_id": card.id,
                    "program_id": card.program_id.id,
                    "company_id": card.company_id.id,
                    "transaction_type": "points_expired",
                    "points_delta": -points,
                    "points_after": 0,
                    "stamps_after": card.stamp_count,
                }
            )
            models.Model.write(
                card,
                {
                    "points_balance": 0,
                    "total_points_expired": card.total_points_expired + points,
                    "expired_notice_points": points,
                },
            )
        env.flush_all()
        seconds = time.perf_counter() - t0
        cr.rollback()
        engine_ids = due_ids(cr, args.engine_sample)
        t0 = time.perf_counter()
        for card in env["loyalty_plus.card"].browse(engine_ids):
            card._apply_ledger(
                {"transaction_type": "points_expired", "points_delta": -card.points_balance, "shop_id": card.shop_id.id}
            )
        env.flush_all()
        engine_seconds = time.perf_counter() - t0
        cr.rollback()
        chunk = sql_floor(env)
    print(
        json.dumps(
            {
                "cards": len(ids),
                "seconds": round(seconds, 2),
                "rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1),
                "engine_cards": len(engine_ids),
                "engine_seconds": round(engine_seconds, 2),
                **chunk,
            }
        )
    )


def sql_floor(env):
    """The SQL the cron needs: one chunk's statement timed alone (rolled back), then again with
    PostgreSQL's foreign-key checks off (``session_replication_role``, a superuser setting; skipped
    without one) to show what the ledger's foreign keys cost per row."""
    import psycopg2

    from odoo import fields

    from odoo.addons.loyalty_plus.models.loyalty_plus_card_lifecycle import EXPIRY_CHUNK

    cr, card_model = env.cr, env["loyalty_plus.card"]
    now = fields.Datetime.now()
    program_id, cutoff = next(iter(card_model._get_expiry_cutoffs(now).items()))
    figures = {}
    for label, setting in (("chunk", None), ("chunk_no_fk", "replica")):
        if setting:
            try:
                cr.execute("SET LOCAL session_replication_role = %s", [setting])
            except psycopg2.errors.InsufficientPrivilege:  # not a superuser: no figure
                cr.rollback()
                continue
        t0 = time.perf_counter()
        count = card_model._expire_points_chunk(program_id, cutoff, now, limit=EXPIRY_CHUNK)
        figures[f"{label}_cards"] = count
        figures[f"{label}_seconds"] = round(time.perf_counter() - t0, 3)
        cr.rollback()
    return figures


def phase_cron(args):
    """The expiration cron, end to end, as the scheduler runs it."""
    from odoo import api

    registry = odoo_env(args.db)  # sets the addons path up
    from odoo.addons.loyalty_plus.models.loyalty_plus_card_lifecycle import EXPIRY_CHUNK, EXPIRY_WORKERS

    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        cr.execute(
            """SELECT count(*), count(*) FILTER (WHERE points_balance > 0 AND last_activity_date
                      < now() at time zone 'UTC' - interval '365 days') FROM loyalty_plus_card"""
        )
        cards, due = cr.fetchone()
        cron = env.ref("loyalty_plus.ir_cron_expire_points")
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_progress")
        first_progress_id = cr.fetchone()[0]
        cr.commit()  # end the snapshot: a transaction left open would hold back the cleanup of the cron's rows
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        t0 = time.perf_counter()
        runs = 0
        while True:
            # the scheduler runs a job again at once while its last callback reports remaining work
            cron.method_direct_trigger()
            runs += 1
            cr.commit()  # a fresh snapshot (the cursor is REPEATABLE READ) to read the job's progress
            cr.execute("SELECT remaining FROM ir_cron_progress WHERE cron_id = %s ORDER BY id DESC LIMIT 1", [cron.id])
            if not cr.fetchone()[0] or runs >= 50:
                break
        seconds = time.perf_counter() - t0
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cr.execute("SELECT count(*) FROM ir_cron_progress WHERE cron_id = %s AND id > %s", [cron.id, first_progress_id])
        callbacks = cr.fetchone()[0]
        cr.execute(
            """SELECT count(*) FROM loyalty_plus_card WHERE points_balance > 0 AND active
                  AND last_activity_date < now() at time zone 'UTC' - interval '365 days'"""
        )
        still_due = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*), coalesce(-sum(points_delta), 0) FROM loyalty_plus_transaction "
            "WHERE transaction_type = 'points_expired'"
        )
        expired_rows, expired_points = cr.fetchone()
        cr.execute(
            "SELECT done, remaining FROM ir_cron_progress WHERE cron_id = %s ORDER BY id DESC LIMIT 1", [cron.id]
        )
        progress = cr.fetchone()
    print(
        json.dumps(
            {
                "cards": cards,
                "due": due,
                "chunk": EXPIRY_CHUNK,
                "workers": EXPIRY_WORKERS,
                "scheduler_runs": runs,
                "callbacks": callbacks,
                "still_due": still_due,
                "seconds": round(seconds, 2),
                "expired_rows": expired_rows,
                "expired_points": expired_points,
                "cron_progress_done_remaining": progress,
                "python_heap_peak_mb": round(peak / 2**20, 1),
                "process_max_rss_mb": round(rss_after / 1024, 1),
                "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
            }
        )
    )


def phase_check(args):
    """Ledger invariant over every card, and the rate of the expired-points emails (sample, rolled back)."""
    from odoo import api

    registry = odoo_env(args.db)
    with registry.cursor() as cr:
        cr.execute(
            """SELECT count(*) FROM loyalty_plus_card c
                 LEFT JOIN (SELECT card_id, sum(points_delta) AS s FROM loyalty_plus_transaction
                             GROUP BY card_id) t ON t.card_id = c.id
                WHERE c.points_balance != coalesce(t.s, 0)
                   OR c.points_balance != c.total_points_earned - c.total_points_redeemed
                                          - c.total_points_voided - c.total_points_expired"""
        )
        mismatches = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM loyalty_plus_card WHERE expired_notice_points > 0")
        pending = cr.fetchone()[0]
        env = api.Environment(cr, 1, {})
        cards = env["loyalty_plus.card"].search([("expired_notice_points", ">", 0)], limit=args.mail_sample)
        t0 = time.perf_counter()
        cards._send_lifecycle_mail("mail_template_points_expired")
        env.flush_all()
        seconds = time.perf_counter() - t0
        cr.rollback()
    print(
        json.dumps(
            {
                "ledger_mismatches": mismatches,
                "expired_notices_pending": pending,
                "mail_sample": len(cards),
                "mail_seconds": round(seconds, 2),
            }
        )
    )


def run_phase(args, phase):
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--phase",
        phase,
        "--db",
        args.db,
        "--source",
        args.source,
        "--cards",
        str(args.cards),
        "--due",
        str(args.due),
        "--sample",
        str(args.sample),
        "--mail-sample",
        str(args.mail_sample),
        "--engine-sample",
        str(args.engine_sample),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"phase {phase} printed nothing")
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="lp_life_t", help="a database where loyalty_plus is installed")
    parser.add_argument("--db", default="lp_life_bench", help="the scratch database (dropped and re-created)")
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=200_000, help="fixed by the seed: one card in five")
    parser.add_argument("--sample", type=int, default=20_000, help="cards of the per-card ORM loop")
    parser.add_argument("--engine-sample", type=int, default=5_000, help="cards of the engine's per-card path")
    parser.add_argument("--mail-sample", type=int, default=2_000)
    parser.add_argument("--phase", choices=["copy", "seed", "reset", "loop", "cron", "check"])
    parser.add_argument("--reuse", action="store_true", help="reuse the seeded scratch database (reset it)")
    parser.add_argument("--skip-loop", action="store_true", help="do not run the per-card loop (slow)")
    parser.add_argument("--loop-ms", type=float, default=0, help="with --skip-loop: a loop figure measured before")
    args = parser.parse_args()
    if args.phase:
        globals()[f"phase_{args.phase}"](args)
        return
    print(f"cores: {os.cpu_count()}; scratch database {args.db} copied from {args.source}")
    if args.reuse:
        run_phase(args, "reset")
        print("reused the seeded database, previous expiration undone")
    else:
        run_phase(args, "copy")
        seed = run_phase(args, "seed")
        print(f"seeded {args.cards:,} cards ({args.cards // 5:,} due) in {seed['seed_seconds']} s")
    if args.skip_loop:
        loop = {"cards": args.sample, "seconds": args.loop_ms * args.sample / 1000, "rss_growth_mb": "n/a"}
        print("per-card ORM loop not run again: figure given with --loop-ms")
    else:
        loop = run_phase(args, "loop")
    loop_rate = loop["seconds"] / loop["cards"]
    print(
        f"per-card ORM loop: {loop['cards']:,} cards in {loop['seconds']} s "
        f"({loop_rate * 1000:.2f} ms/card; RSS growth {loop['rss_growth_mb']} MB)"
    )
    cron = run_phase(args, "cron")
    cron_rate = cron["seconds"] / max(cron["expired_rows"], 1)
    print(
        f"expiration cron: {cron['cards']:,} cards, {cron['due']:,} due, {cron['expired_rows']:,} expired "
        f"({cron['expired_points']:,} points) in {cron['seconds']} s over {cron['scheduler_runs']} scheduler run(s) "
        f"({cron['callbacks']} callbacks); still due {cron['still_due']:,}; "
        f"last progress (done, remaining) {cron['cron_progress_done_remaining']}; "
        f"chunks of {cron['chunk']:,} cards, {cron['workers']} transaction(s) side by side"
    )
    print(
        f"  peak memory: Python heap {cron['python_heap_peak_mb']} MB (tracemalloc), "
        f"process max RSS {cron['process_max_rss_mb']} MB (growth during the cron {cron['rss_growth_mb']} MB)"
    )
    print(
        f"  {cron_rate * 1000:.4f} ms/card expired: {loop_rate / cron_rate:.0f}x the per-card ORM loop "
        f"(the loop would need {loop_rate * cron['due']:.0f} s for the {cron['due']:,} due cards)"
    )
    if loop.get("engine_cards"):
        engine_rate = loop["engine_seconds"] / loop["engine_cards"]
        print(
            f"  for scale, the engine's own per-card path (_apply_ledger, {loop['engine_cards']:,} cards): "
            f"{engine_rate * 1000:.2f} ms/card, {engine_rate / cron_rate:.0f}x slower than the cron"
        )
    for label, what in (("chunk", "as the cron runs it"), ("chunk_no_fk", "with the foreign-key checks off")):
        if loop.get(f"{label}_cards"):
            rate = loop[f"{label}_seconds"] / loop[f"{label}_cards"]
            print(
                f"  one chunk's SQL alone, {what}: {loop[f'{label}_cards']:,} cards in "
                f"{loop[f'{label}_seconds'] * 1000:.0f} ms ({rate * 1e6:.0f} us/card on one core)"
            )
    check = run_phase(args, "check")
    print(f"ledger invariant: {check['ledger_mismatches']} cards whose balance differs from their ledger")
    if check["mail_sample"]:
        mail_rate = check["mail_seconds"] / check["mail_sample"]
        print(
            f"expired-points emails: {check['expired_notices_pending']:,} pending for their own cron; "
            f"{check['mail_sample']:,} queued in {check['mail_seconds']} s ({mail_rate * 1000:.2f} ms each, "
            f"{mail_rate * check['expired_notices_pending'] / 60:.1f} min for all)"
        )


if __name__ == "__main__":
    main()
