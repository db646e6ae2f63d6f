import logging
import queue
import threading
from datetime import datetime, timedelta

import pytz

from odoo import api, fields, models, modules
from odoo.orm.environments import Transaction
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

EXPIRY_CHUNK = 10000  # cards expired per statement and commit (about a second of row locks)
EXPIRY_WORKERS = 2  # transactions expiring points side by side, each on its own share of the cards
MAIL_BATCH = 200  # emails queued per commit
TIER_CHUNK = 5000  # cards reviewed per statement and commit
WARNING_DAYS = 14  # the expiry warning goes out this many days before the points expire
REENGAGEMENT_QUIET_DAYS = 90  # at most one re-engagement email a quarter
BIRTHDAY_HOUR = 8  # birthday emails go out from this local hour on


def _collect_chunk_reports(reports, wait):
    """Cards expired by the chunks the helper threads reported (waiting up to a second for one if
    ``wait``)."""
    processed = 0
    try:
        report = reports.get(timeout=1) if wait else reports.get_nowait()
        while True:
            processed += report or 0
            report = reports.get_nowait()
    except queue.Empty:
        return processed


class LoyaltyPlusCard(models.Model):
    """Lifecycle of the cards between visits: expiry, birthdays, re-engagement, tiers, emails."""

    _inherit = "loyalty_plus.card"

    expiry_warning_sent_for = fields.Datetime(
        readonly=True, copy=False, help="Last activity date the latest expiry warning was computed from"
    )
    expired_notice_points = fields.Integer(
        readonly=True, copy=False, default=0, help="Points expired whose email is still to be queued"
    )
    points_expiration_date = fields.Datetime(compute="_compute_points_expiration_date")
    birthday_sent_year = fields.Integer(readonly=True, copy=False, help="Year of the last birthday email or bonus")
    reengagement_sent_date = fields.Datetime(readonly=True, copy=False)
    stamp_reward_notified = fields.Boolean(readonly=True, copy=False)
    points_reward_notified = fields.Boolean(readonly=True, copy=False)
    reward_ready_mail_due = fields.Boolean(readonly=True, copy=False, help="The reward-ready email is to be queued")
    deactivation_reason = fields.Char(readonly=True, copy=False, tracking=True)
    archived_with_program = fields.Boolean(readonly=True, copy=False)

    _reward_ready_mail_due_idx = models.Index("(id) WHERE reward_ready_mail_due")
    # Not partial on the balance: expiring a card then changes no indexed column, so PostgreSQL
    # updates it in place (HOT, with the room the table's fillfactor leaves) instead of adding a
    # new entry to each of the card's indexes. Emptied cards cost the daily scan one heap check each.
    _points_due_idx = models.Index("(program_id, last_activity_date, id)")

    @api.depends("last_activity_date", "program_id.points_expiration_days")
    def _compute_points_expiration_date(self):
        for card in self:
            days = card.program_id.points_expiration_days
            card.points_expiration_date = (
                card.last_activity_date + timedelta(days=days) if days and card.last_activity_date else False
            )

    # ------------------------------------------------------------------
    # Emails
    # ------------------------------------------------------------------

    def _send_lifecycle_mail(self, template_xmlid, marketing=False):
        """Queue the email ``template_xmlid`` to the cards' customers (in their language).

        Marketing emails go only to customers who agreed to receive them. Returns the cards mailed.
        """
        template_sudo = self.env.ref(f"loyalty_plus.{template_xmlid}", raise_if_not_found=False)
        if not template_sudo:
            return self.browse()
        mailed = self.sudo().filtered(lambda card: card.partner_id.email and (not marketing or card.marketing_consent))
        if mailed:
            # rendered by batches, one per language
            template_sudo.sudo().send_mail_batch(mailed.ids, force_send=False)
        return mailed.with_env(self.env)

    def _on_balance_changed(self, transactions):
        super()._on_balance_changed(transactions)
        self._notify_reward_ready()

    def _notify_reward_ready(self):
        """Email once each time a card crosses into "a reward is ready" (full stamp card, or enough
        points for a reward of the catalog); the flag drops when the card falls back below.

        The till only raises the flags: rendering an email costs more than the whole operation, so
        the email is queued minutes later by ``_cron_send_reward_ready_mails``."""
        for card in self:
            card_sudo = card.sudo()
            program = card_sudo.program_id
            stamps_ready = card._stamp_rewards_ready()
            # the cheapest reward of the catalog (by cost) decides whether any reward is payable
            cheapest = program._get_available_rewards()[:1] if program.has_points else self.env["loyalty_plus.reward"]
            points_ready = bool(cheapest) and not card._get_reward_refusal_code(cheapest)
            newly_ready = (stamps_ready and not card_sudo.stamp_reward_notified) or (
                points_ready and not card_sudo.points_reward_notified
            )
            if (stamps_ready, points_ready) != (card_sudo.stamp_reward_notified, card_sudo.points_reward_notified):
                mail_due = newly_ready and card_sudo.active
                self.env.cr.execute(
                    SQL(
                        """UPDATE loyalty_plus_card
                              SET stamp_reward_notified = %s, points_reward_notified = %s,
                                  reward_ready_mail_due = reward_ready_mail_due OR %s
                            WHERE id = %s""",
                        stamps_ready,
                        points_ready,
                        mail_due,
                        card.id,
                    )
                )
                card.invalidate_recordset(["stamp_reward_notified", "points_reward_notified", "reward_ready_mail_due"])

    @api.model
    def _cron_send_reward_ready_mails(self, batch_size=MAIL_BATCH):
        """Queue the "reward ready" emails the tills asked for, a batch per commit."""
        Card = self.sudo().with_context(active_test=False)
        domain = [("reward_ready_mail_due", "=", True)]
        while cards := Card.search(domain, limit=batch_size, order="id"):
            # a card that fell back below (its reward redeemed) before the cron ran has nothing waiting
            cards.filtered(
                lambda c: c.active and (c.stamp_reward_notified or c.points_reward_notified)
            )._send_lifecycle_mail("mail_template_reward_ready")
            self.env.cr.execute(
                SQL("UPDATE loyalty_plus_card SET reward_ready_mail_due = false WHERE id IN %s", tuple(cards.ids))
            )
            cards.invalidate_recordset(["reward_ready_mail_due"])
            remaining = Card.search_count(domain)
            if not self.env["ir.cron"]._commit_progress(processed=len(cards), remaining=remaining) or not remaining:
                break

    @api.model
    def _enroll(self, partner, shop, program=None):
        card, created = super()._enroll(partner, shop, program=program)
        if created:
            # the welcome email carries the link to set a password for the customer's account
            card._prepare_account_invitation()
            card._send_lifecycle_mail("mail_template_enrollment")
            if card.sudo().total_points_earned and card.sudo().program_id.welcome_bonus_points:
                card._send_lifecycle_mail("mail_template_welcome_bonus")
        return card, created

    # ------------------------------------------------------------------
    # Points expiration (set-based)
    # ------------------------------------------------------------------

    @api.model
    def _get_expiry_cutoffs(self, now):
        """``{program id: last activity date before which points expire}`` of the programs that expire points."""
        programs = self.env["loyalty_plus.program"].sudo().search([("points_expiration_days", ">", 0)])
        return {program.id: now - timedelta(days=program.points_expiration_days) for program in programs}

    @api.model
    def _count_points_due(self, cutoffs):
        total = 0
        for program_id, cutoff in cutoffs.items():
            self.env.cr.execute(
                SQL(
                    """SELECT count(*) FROM loyalty_plus_card
                        WHERE program_id = %s AND points_balance > 0 AND last_activity_date < %s AND active""",
                    program_id,
                    cutoff,
                )
            )
            total += self.env.cr.fetchone()[0]
        return total

    @api.model
    def _expire_points_chunk(self, program_id, cutoff, now, limit=EXPIRY_CHUNK, position=None, partition=(1, 0)):
        """Expire the points of up to ``limit`` due cards of a program in one statement: lock them
        (skipping those a till holds: a later run takes them), empty the balances, write one
        ``points_expired`` ledger row each (from the rows the update returns, so that each card is read
        once). The ledger row names no shop, user or currency: nobody acted and nothing was paid (and
        each foreign key would cost PostgreSQL a lookup per row).

        ``position`` (a dict, optional) carries the ``(last_activity_date, id)`` of the last card of the
        previous chunk of the same run under "after", and receives this chunk's: the index scan then
        starts past the cards this run already expired.
        ``partition`` ``(parts, part)`` restricts the chunk to the cards whose id modulo ``parts`` is
        ``part``: parallel transactions then never wait for each other's row locks. Returns the number of
        cards expired."""
        after_date, after_id = (position or {}).get("after") or (None, 0)
        parts, part = partition
        in_partition = SQL("AND id %% %s = %s", parts, part) if parts > 1 else SQL()
        self.env.cr.execute(
            SQL(
                """
                WITH due AS (
                    SELECT id, last_activity_date FROM loyalty_plus_card
                     WHERE program_id = %(program)s AND points_balance > 0 AND last_activity_date < %(cutoff)s
                       AND active %(in_partition)s
                       AND (%(after_date)s::timestamp IS NULL
                            OR (last_activity_date, id) > (%(after_date)s::timestamp, %(after_id)s))
                     ORDER BY last_activity_date, id
                     LIMIT %(limit)s
                       FOR UPDATE SKIP LOCKED
                ), expired AS (
                    UPDATE loyalty_plus_card card
                       SET total_points_expired = card.total_points_expired + card.points_balance,
                           expired_notice_points = card.points_balance,
                           points_balance = 0,
                           points_reward_notified = FALSE,
                           write_date = %(now)s,
                           write_uid = %(uid)s
                      FROM due
                     WHERE card.id = due.id
                 RETURNING card.id, card.program_id, card.company_id, card.stamp_count,
                           card.expired_notice_points AS points
                ), ledger AS (
                    INSERT INTO loyalty_plus_transaction (
                        card_id, program_id, company_id, transaction_type, stamps_delta, points_delta,
                        stamps_after, points_after, amount, create_uid, create_date, write_uid, write_date)
                    SELECT expired.id, expired.program_id, expired.company_id, 'points_expired', 0, -expired.points,
                           expired.stamp_count, 0, 0, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM expired
                )
                SELECT ARRAY(SELECT id FROM expired), last.last_activity_date, last.id
                  FROM (SELECT 1) one
                  LEFT JOIN (SELECT last_activity_date, id FROM due
                              ORDER BY last_activity_date DESC, id DESC LIMIT 1) last ON TRUE
                """,
                program=program_id,
                cutoff=cutoff,
                limit=limit,
                after_date=after_date,
                after_id=after_id,
                in_partition=in_partition,
                uid=self.env.uid,
                now=now,
            )
        )
        card_ids, last_date, last_id = self.env.cr.fetchone()
        if position is not None and last_id:
            position["after"] = (last_date, last_id)
        if card_ids:
            self._on_points_expired(card_ids)
        return len(card_ids)

    @api.model
    def _cron_expire_points(self, chunk_size=EXPIRY_CHUNK, workers=None):
        """Daily: cards inactive longer than their program's expiry lose their points.

        One commit per chunk; a run that is killed or runs out of time leaves whole chunks done and the
        next run takes the rest (expired cards have no balance left, so nothing expires twice).
        ``workers`` transactions expire disjoint partitions of the cards side by side (the statement
        spends its time in PostgreSQL, on one core per transaction)."""
        self.env.flush_all()
        now = fields.Datetime.now()
        cutoffs = self._get_expiry_cutoffs(now)
        remaining = self._count_points_due(cutoffs)
        self.env["ir.cron"]._commit_progress(remaining=remaining)
        if workers is None:
            # in a test every cursor shares the test's connection: nothing can run beside it
            workers = 1 if modules.module.current_test else EXPIRY_WORKERS
        total = 0
        for program_id, cutoff in cutoffs.items():
            if not remaining:
                break
            expired, remaining, out_of_time = self._expire_program_points(
                program_id, cutoff, now, chunk_size, workers, remaining
            )
            total += expired
            if out_of_time:
                break  # the scheduler runs the job again for the rest
        _logger.info("Loyalty+: expired the points of %s cards", total)
        if total:
            notices = self.env.ref("loyalty_plus.ir_cron_points_expired_notices", raise_if_not_found=False)
            if notices:
                notices._trigger()
        return total

    @api.model
    def _expire_program_points(self, program_id, cutoff, now, chunk_size, workers, remaining):
        """Expire the due cards of a program, chunk by chunk: partition 0 here, on the cron's cursor,
        which reports the progress of all; the other partitions in threads, each on a cursor of its own.
        Returns ``(cards expired, cards still due, out of time)``."""
        cron = self.env["ir.cron"]
        stop = threading.Event()
        reports = queue.SimpleQueue()
        failures = []
        helpers = [
            threading.Thread(
                target=self._expire_points_partition,
                args=(program_id, cutoff, now, chunk_size, (workers, part), stop, reports, failures),
                name=f"loyalty_plus_expiry_{part}",
                daemon=True,
            )
            for part in range(1, workers)
        ]
        for helper in helpers:
            helper.start()
        expired, mine_left, out_of_time = 0, True, False
        position = {}
        try:
            while mine_left or any(helper.is_alive() for helper in helpers):
                processed, waiting = 0, not mine_left
                if mine_left:
                    processed = self._expire_points_chunk(
                        program_id, cutoff, now, limit=chunk_size, position=position, partition=(workers, 0)
                    )
                    # a short chunk is the end of the partition (the cards a till held: the next run)
                    mine_left = processed == chunk_size
                processed += _collect_chunk_reports(reports, wait=waiting)
                expired += processed
                remaining = max(remaining - processed, 0)
                self.invalidate_model()
                self.env["loyalty_plus.transaction"].invalidate_model()
                if not cron._commit_progress(processed=processed, remaining=remaining):
                    out_of_time = True
                    break
                if failures:
                    break
        finally:
            stop.set()
            for helper in helpers:
                helper.join()
        # the chunks the helpers committed while they stopped
        if processed := _collect_chunk_reports(reports, wait=False):
            expired += processed
            remaining = max(remaining - processed, 0)
            cron._commit_progress(processed=processed, remaining=remaining)
        if failures:
            raise failures[0]
        return expired, remaining, out_of_time

    def _expire_points_partition(self, program_id, cutoff, now, chunk_size, partition, stop, reports, failures):
        """Thread body: expire one partition of a program's due cards until it is done or ``stop`` is
        set, one transaction per chunk. Puts the count of each committed chunk in ``reports``, then None
        when it stops; an error that stops it goes to ``failures``."""
        try:
            with self.env.registry.cursor() as cr:
                # a transaction object of its own up front: looking the registry up would need
                # Registry._lock, which the thread that started this one may hold
                cr.transaction = Transaction(self.env.registry)
                card_model = self.with_env(self.env(cr=cr))
                position = {}
                while not stop.is_set():
                    count = card_model._expire_points_chunk(
                        program_id, cutoff, now, limit=chunk_size, position=position, partition=partition
                    )
                    # the cron thread reports this chunk's progress to the scheduler
                    cr.commit()  # pylint: disable=invalid-commit
                    reports.put(count)
                    if count < chunk_size:
                        break
        except Exception as error:  # handed over to the cron thread, which raises it
            failures.append(error)
        finally:
            reports.put(None)

    @api.model
    def _cron_send_points_expired_notices(self, batch_size=MAIL_BATCH):
        """Queue the "points expired" emails the expiration left to send, a batch per commit.

        The pending cards are not indexed (see ``_points_due_idx``): the batches walk the cards in id
        order, so that a run reads the table once."""
        cron = self.env["ir.cron"]
        Card = self.sudo().with_context(active_test=False)
        domain = [("expired_notice_points", ">", 0)]
        remaining = Card.search_count(domain)
        last_id = 0
        while remaining:
            cards = Card.search([*domain, ("id", ">", last_id)], limit=batch_size, order="id")
            if not cards:
                break
            last_id = cards[-1].id
            cards._send_lifecycle_mail("mail_template_points_expired")
            self.env.cr.execute(
                SQL("UPDATE loyalty_plus_card SET expired_notice_points = 0 WHERE id IN %s", tuple(cards.ids))
            )
            cards.invalidate_recordset(["expired_notice_points"])
            remaining = max(remaining - len(cards), 0)
            if not cron._commit_progress(processed=len(cards), remaining=remaining):
                break

    @api.model
    def _cron_warn_points_expiring(self, batch_size=MAIL_BATCH):
        """Daily: warn the members whose points expire within 14 days, once per expiry cycle (the warning
        remembers the activity date it was computed from; new activity starts a new cycle)."""
        self.env.flush_all()
        now = fields.Datetime.now()
        condition = SQL(
            """card.active AND program.active AND program.points_expiration_days > 0 AND card.points_balance > 0
               AND card.last_activity_date >= %(now)s::timestamp - make_interval(days => program.points_expiration_days)
               AND card.last_activity_date < %(now)s::timestamp + make_interval(
                       days => LEAST(%(lead)s, program.points_expiration_days / 2) - program.points_expiration_days)
               AND card.expiry_warning_sent_for IS DISTINCT FROM card.last_activity_date""",
            now=now,
            lead=WARNING_DAYS,
        )
        cron = self.env["ir.cron"]
        while True:
            self.env.cr.execute(
                SQL(
                    """SELECT card.id FROM loyalty_plus_card card
                         JOIN loyalty_plus_program program ON program.id = card.program_id
                        WHERE %s ORDER BY card.id LIMIT %s""",
                    condition,
                    batch_size,
                )
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            if not ids:
                break
            cards = self.sudo().browse(ids)
            cards._send_lifecycle_mail("mail_template_points_expiring")
            self.env.cr.execute(
                SQL(
                    "UPDATE loyalty_plus_card SET expiry_warning_sent_for = last_activity_date WHERE id IN %s",
                    tuple(ids),
                )
            )
            cards.invalidate_recordset(["expiry_warning_sent_for"])
            if not cron._commit_progress(processed=len(ids)):
                break

    # ------------------------------------------------------------------
    # Birthdays, re-engagement, tiers
    # ------------------------------------------------------------------

    @api.model
    def _cron_birthday(self, batch_size=MAIL_BATCH):
        """Hourly, so that each member is celebrated on their own day in their own time zone (from 8:00):
        a birthday email (with marketing consent) and the program's birthday bonus, once a year."""
        self.env.flush_all()
        now_utc = pytz.utc.localize(fields.Datetime.now())
        # the local date is at most one day away from the UTC date; a 29 February birthday is
        # celebrated on 28 February in other years
        month_days = set()
        for delta in (-1, 0, 1):
            day = (now_utc + timedelta(days=delta)).date()
            month_days.add(day.strftime("%m-%d"))
            if day.month == 2 and day.day == 28:
                month_days.add("02-29")
        self.env.cr.execute(
            SQL(
                """SELECT card.id FROM loyalty_plus_card card
                     JOIN loyalty_plus_program program ON program.id = card.program_id
                     JOIN res_partner partner ON partner.id = card.partner_id
                    WHERE card.active AND program.active AND partner.birthday IS NOT NULL
                      AND to_char(partner.birthday, 'MM-DD') IN %s
                      AND (card.birthday_sent_year IS NULL OR card.birthday_sent_year < %s)
                    ORDER BY card.id""",
                tuple(month_days),
                now_utc.year + 1,
            )
        )
        candidate_ids = [row[0] for row in self.env.cr.fetchall()]
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(candidate_ids))
        for start in range(0, len(candidate_ids), batch_size):
            batch = self.sudo().browse(candidate_ids[start : start + batch_size])
            for card in batch:
                year = card._get_birthday_year_today(now_utc)
                if year and card.birthday_sent_year != year:
                    card._celebrate_birthday(year)
            if not cron._commit_progress(processed=len(batch)):
                break

    def _get_birthday_year_today(self, now_utc):
        """The local year if today (in the customer's time zone, from 8:00) is the birthday, else False."""
        self.ensure_one()
        tz_name = self.partner_id.tz or self.company_id.partner_id.tz or "UTC"
        try:
            tz = pytz.timezone(tz_name)
        except pytz.UnknownTimeZoneError:
            tz = pytz.utc
        local = now_utc.astimezone(tz)
        birthday = self.partner_id.birthday
        month, day = birthday.month, birthday.day
        if (month, day) == (2, 29):
            try:
                datetime(local.year, 2, 29)
            except ValueError:
                day = 28
        if (local.month, local.day) == (month, day) and local.hour >= BIRTHDAY_HOUR:
            return local.year
        return False

    def _celebrate_birthday(self, year):
        self.ensure_one()
        self._lock()
        if self.birthday_sent_year == year:  # another run took it meanwhile
            return
        program = self.program_id
        if program.birthday_bonus_points and program.has_points:
            self._apply_ledger(
                {
                    "transaction_type": "bonus",
                    "points_delta": program.birthday_bonus_points,
                    "shop_id": self.shop_id.id,
                    "note": self.env._("Birthday bonus"),
                },
                lock=False,
            )
        self.env.cr.execute(SQL("UPDATE loyalty_plus_card SET birthday_sent_year = %s WHERE id = %s", year, self.id))
        self.invalidate_recordset(["birthday_sent_year"])
        self._send_lifecycle_mail("mail_template_birthday", marketing=True)

    @api.model
    def _cron_reengage(self, batch_size=MAIL_BATCH):
        """Weekly: a re-engagement email to consenting members inactive longer than their program's delay,
        at most once a quarter each."""
        self.env.flush_all()
        now = fields.Datetime.now()
        condition = SQL(
            """card.active AND program.active AND card.marketing_consent AND program.reengagement_days > 0
               AND partner.email IS NOT NULL AND partner.email != ''
               AND COALESCE(card.last_activity_date, card.create_date)
                   < %(now)s::timestamp - make_interval(days => program.reengagement_days)
               AND (card.reengagement_sent_date IS NULL
                    OR card.reengagement_sent_date < %(now)s::timestamp - make_interval(days => %(quiet)s))""",
            now=now,
            quiet=REENGAGEMENT_QUIET_DAYS,
        )
        cron = self.env["ir.cron"]
        while True:
            self.env.cr.execute(
                SQL(
                    """SELECT card.id FROM loyalty_plus_card card
                         JOIN loyalty_plus_program program ON program.id = card.program_id
                         JOIN res_partner partner ON partner.id = card.partner_id
                        WHERE %s ORDER BY card.id LIMIT %s""",
                    condition,
                    batch_size,
                )
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            if not ids:
                break
            cards = self.sudo().browse(ids)
            cards._send_lifecycle_mail("mail_template_reengagement", marketing=True)
            self.env.cr.execute(
                SQL("UPDATE loyalty_plus_card SET reengagement_sent_date = %s WHERE id IN %s", now, tuple(ids))
            )
            cards.invalidate_recordset(["reengagement_sent_date"])
            if not cron._commit_progress(processed=len(ids)):
                break

    @api.model
    def _cron_review_tiers(self, chunk_size=TIER_CHUNK):
        """Daily: put every card of a program with tiers in the tier its points earned over the rolling
        12 months reach, up or down (set-based, a chunk per commit); optionally email the moves."""
        self.env.flush_all()
        now = fields.Datetime.now()
        programs = self.env["loyalty_plus.program"].sudo().search([("tier_ids", "!=", False)])
        # a plan without tiers (after a downgrade) keeps the cards where they are
        programs = programs.filtered(lambda program: program.company_id._loyalty_plus_has_plan_feature("tiers"))
        Transaction = self.env["loyalty_plus.transaction"]
        cron = self.env["ir.cron"]
        for program in programs:
            after_id = 0
            while True:
                self.env.cr.execute(
                    SQL(
                        """
                        WITH chunk AS (
                            SELECT id, tier_id FROM loyalty_plus_card
                             WHERE program_id = %(program)s AND id > %(after)s
                             ORDER BY id LIMIT %(limit)s
                        ), earned AS (
                            SELECT tx.card_id, sum(tx.points_delta) AS points
                              FROM loyalty_plus_transaction tx JOIN chunk ON chunk.id = tx.card_id
                             WHERE tx.points_delta > 0 AND tx.transaction_type IN %(types)s
                               AND tx.create_date >= %(since)s
                             GROUP BY tx.card_id
                        ), target AS (
                            SELECT chunk.id, (
                                SELECT tier.id FROM loyalty_plus_tier tier
                                 WHERE tier.program_id = %(program)s
                                   AND tier.threshold_points <= COALESCE(earned.points, 0)
                                 ORDER BY tier.threshold_points DESC, tier.id DESC LIMIT 1
                            ) AS tier_id
                              FROM chunk LEFT JOIN earned ON earned.card_id = chunk.id
                        ), moved AS (
                            UPDATE loyalty_plus_card card SET tier_id = target.tier_id
                              FROM target
                             WHERE card.id = target.id AND card.tier_id IS DISTINCT FROM target.tier_id
                         RETURNING card.id
                        )
                        SELECT (SELECT max(id) FROM chunk), (SELECT count(*) FROM chunk),
                               ARRAY(SELECT id FROM moved)
                        """,
                        program=program.id,
                        after=after_id,
                        limit=chunk_size,
                        types=tuple(Transaction._get_earning_types()),
                        since=now - timedelta(days=365),
                    )
                )
                last_id, count, moved_ids = self.env.cr.fetchone()
                if not count:
                    break
                after_id = last_id
                self.invalidate_model(["tier_id"])
                if moved_ids:
                    moved = self.sudo().browse(moved_ids)
                    moved._on_tiers_reviewed()
                    if program.tier_change_email:
                        moved.filtered("tier_id")._send_lifecycle_mail("mail_template_tier_changed")
                if not cron._commit_progress(processed=count):
                    return

    # ------------------------------------------------------------------
    # Admin actions
    # ------------------------------------------------------------------

    def action_export_member_data(self):
        """Download the data of the card's member as JSON."""
        self.ensure_one()
        return self.partner_id.action_loyalty_plus_export()

    def action_anonymize_member(self):
        """GDPR erasure of the card's member (and of their other cards)."""
        self.ensure_one()
        self.partner_id.action_loyalty_plus_anonymize()
        return True
