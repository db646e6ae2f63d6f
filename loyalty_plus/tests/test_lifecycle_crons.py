from datetime import date, datetime, timedelta

from odoo import api
from odoo.orm.environments import Transaction
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from .common import CommittedDataCase, LoyaltyPlusCase, create_committed_merchant, remove_committed_merchant

T0 = datetime(2026, 1, 5, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestLifecycleCrons(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"points_expiration_days": 100, "welcome_bonus_points": 0, "birthday_bonus_points": 30})
        cls.Card = cls.env["loyalty_plus.card"]

    def setUp(self):
        super().setUp()
        # the crons commit after each chunk; inside a test those commits are no-ops (the test rolls back)
        self.patch(self.env.cr, "commit", lambda: None)

    def new_card(self, name, points=0, **partner_vals):
        partner = self.env["res.partner"].create({"name": name, "email": f"{name.lower()}@example.com", **partner_vals})
        card = self.Card.create({"partner_id": partner.id, "program_id": self.program.id, "shop_id": self.bakery.id})
        if points:
            card._apply_ledger({"transaction_type": "points_earned", "points_delta": points, "shop_id": self.bakery.id})
        return card

    def mails(self, card, template):
        return self.env["mail.mail"].search(
            [
                ("model", "=", "loyalty_plus.card"),
                ("res_id", "=", card.id),
                ("subject", "=", self.env.ref(f"loyalty_plus.{template}")._render_field("subject", card.ids)[card.id]),
            ]
        )

    def expired_rows(self, card):
        return self.env["loyalty_plus.transaction"].search(
            [("card_id", "=", card.id), ("transaction_type", "=", "points_expired")]
        )

    # ---------------------------------------------------------------- expiration

    def test_expiration_selection_and_once(self):
        with freeze_time(T0):
            idle = self.new_card("Idle", 80)
            busy = self.new_card("Busy", 60)
            never = self.new_card("Never", 0)
        with freeze_time(T0 + timedelta(days=50)):
            busy._apply_ledger({"transaction_type": "points_earned", "points_delta": 10, "shop_id": self.bakery.id})
        with freeze_time(T0 + timedelta(days=99)):
            self.assertEqual(self.Card._cron_expire_points(), 0, "not due before the end of the 100 days")
        with freeze_time(T0 + timedelta(days=101)):
            self.assertEqual(self.Card._cron_expire_points(), 1)
            self.assertEqual(self.Card._cron_expire_points(), 0, "a second run expires nothing")
        self.assertEqual(idle.points_balance, 0)
        self.assertEqual(idle.total_points_expired, 80)
        self.assertEqual(idle.last_activity_date, T0, "expiry is no activity")
        self.assertEqual(len(self.expired_rows(idle)), 1)
        self.assertEqual(self.expired_rows(idle).points_delta, -80)
        self.assertEqual(busy.points_balance, 70)
        self.assertFalse(self.expired_rows(busy) | self.expired_rows(never))
        for card in (idle, busy, never):
            self.assertLedgerMatches(card)
        # the expired email goes out once, from its own cron
        self.assertEqual(idle.expired_notice_points, 80)
        self.Card._cron_send_points_expired_notices()
        self.Card._cron_send_points_expired_notices()
        self.assertEqual(len(self.mails(idle, "mail_template_points_expired")), 1)
        self.assertIn("80", self.mails(idle, "mail_template_points_expired").body_html)
        self.assertFalse(self.mails(busy, "mail_template_points_expired"))
        self.assertEqual(idle.expired_notice_points, 0)

    def test_expiration_updates_cards_in_place(self):
        """Expiring changes no indexed column of the card: PostgreSQL updates each card on its page
        (HOT, in the room the table's fillfactor leaves) without a new entry in every card index."""
        with freeze_time(T0):
            cards = [self.new_card(f"Hot{i}", 10) for i in range(4)]
        self.env.flush_all()
        hot_updates = SQL("SELECT pg_stat_get_xact_tuples_hot_updated(%s::regclass)", self.Card._table)
        self.env.cr.execute(hot_updates)
        before = self.env.cr.fetchone()[0]
        with freeze_time(T0 + timedelta(days=101)):
            self.assertEqual(self.Card._cron_expire_points(), len(cards))
        self.env.cr.execute(hot_updates)
        self.assertEqual(self.env.cr.fetchone()[0] - before, len(cards))
        row = self.expired_rows(cards[0])
        self.assertFalse(row.shop_id or row.user_id, "an expiry happens at no shop and by nobody")

    def test_expiration_program_without_expiry_or_archived_card(self):
        with freeze_time(T0):
            card = self.new_card("Kept", 40)
            archived = self.new_card("Archived", 40)
            archived.action_archive()
        self.program.points_expiration_days = 0
        with freeze_time(T0 + timedelta(days=1000)):
            self.assertEqual(self.Card._cron_expire_points(), 0)
        self.program.points_expiration_days = 100
        with freeze_time(T0 + timedelta(days=1000)):
            self.Card._cron_expire_points()
        self.assertEqual(len(self.expired_rows(card)), 1)
        self.assertFalse(self.expired_rows(archived))
        self.assertEqual(card.points_balance, 0)
        self.assertEqual(archived.points_balance, 40)

    def test_expiration_killed_then_rerun(self):
        with freeze_time(T0):
            cards = [self.new_card(f"Due{i}", 10 + i) for i in range(5)]
        with freeze_time(T0 + timedelta(days=101)):
            self.env.flush_all()
            # a run killed after its first chunk was committed
            now = datetime.now()
            done = self.Card._expire_points_chunk(self.program.id, now - timedelta(days=100), now, limit=2)
            self.assertEqual(done, 2)
            self.Card.invalidate_model()
            # the next run takes the rest, and nothing twice
            self.assertEqual(self.Card._cron_expire_points(chunk_size=2), 3)
            self.assertEqual(self.Card._cron_expire_points(chunk_size=2), 0)
            self.Card._cron_send_points_expired_notices(batch_size=2)
        for i, card in enumerate(cards):
            self.assertEqual(len(self.expired_rows(card)), 1)
            self.assertEqual(card.total_points_expired, 10 + i)
            self.assertEqual(len(self.mails(card, "mail_template_points_expired")), 1)
            self.assertLedgerMatches(card)

    def test_expiration_partition_killed_then_rerun(self):
        with freeze_time(T0):
            cards = [self.new_card(f"Part{i}", 20 + i) for i in range(6)]
        odd = [card for card in cards if card.id % 2]
        with freeze_time(T0 + timedelta(days=101)):
            self.env.flush_all()
            # a run killed after the helper thread of partition 1 (of 2) committed its first chunk
            now = datetime.now()
            done = self.Card._expire_points_chunk(
                self.program.id, now - timedelta(days=100), now, limit=2, partition=(2, 1)
            )
            self.assertEqual(done, min(2, len(odd)))
            self.Card.invalidate_model()
            self.assertEqual({card for card in cards if card.total_points_expired}, set(odd[:done]))
            # the next run (one worker here) takes the rest of both partitions, and nothing twice
            self.assertEqual(self.Card._cron_expire_points(chunk_size=2), len(cards) - done)
            self.assertEqual(self.Card._cron_expire_points(chunk_size=2), 0)
        for i, card in enumerate(cards):
            self.assertEqual(len(self.expired_rows(card)), 1)
            self.assertEqual(self.expired_rows(card).points_delta, -(20 + i))
            self.assertEqual(card.expired_notice_points, 20 + i)
            self.assertLedgerMatches(card)

    def test_expiry_warning_once_per_cycle(self):
        with freeze_time(T0):
            card = self.new_card("Warned", 50)
        with freeze_time(T0 + timedelta(days=85)):
            self.Card._cron_warn_points_expiring()
            self.assertFalse(self.mails(card, "mail_template_points_expiring"), "more than 14 days left")
        with freeze_time(T0 + timedelta(days=87)):
            self.Card._cron_warn_points_expiring()
            self.Card._cron_warn_points_expiring()
        self.assertEqual(len(self.mails(card, "mail_template_points_expiring")), 1)
        self.assertEqual(card.expiry_warning_sent_for, T0)
        # new activity starts a new cycle: a new warning before the new expiry date
        with freeze_time(T0 + timedelta(days=90)):
            card._apply_ledger({"transaction_type": "points_earned", "points_delta": 5, "shop_id": self.bakery.id})
        with freeze_time(T0 + timedelta(days=95)):
            self.Card._cron_warn_points_expiring()
            self.assertEqual(len(self.mails(card, "mail_template_points_expiring")), 1)
        with freeze_time(T0 + timedelta(days=178)):
            self.Card._cron_warn_points_expiring()
        self.assertEqual(len(self.mails(card, "mail_template_points_expiring")), 2)

    def test_expiry_warning_killed_then_rerun(self):
        with freeze_time(T0):
            cards = [self.new_card(f"Warn{i}", 20) for i in range(3)]
        with freeze_time(T0 + timedelta(days=87)):
            # the first batch went out and was committed, then the run died
            self.Card._cron_warn_points_expiring(batch_size=1)
            self.Card._cron_warn_points_expiring(batch_size=2)
        for card in cards:
            self.assertEqual(len(self.mails(card, "mail_template_points_expiring")), 1)

    # ---------------------------------------------------------------- birthdays

    def test_birthday_in_customer_time_zone_once_a_year(self):
        lux = self.new_card("Lux", 0, birthday=date(1990, 5, 10), tz="Europe/Luxembourg")
        lux.marketing_consent = True
        nz = self.new_card("Kiwi", 0, birthday=date(1985, 5, 11), tz="Pacific/Auckland")
        nz.marketing_consent = True
        shy = self.new_card("Shy", 0, birthday=date(1970, 5, 10), tz="Europe/Luxembourg")
        with freeze_time(datetime(2026, 5, 10, 5, 0)):  # 7:00 in Luxembourg: too early
            self.Card._cron_birthday()
        self.assertFalse(lux.birthday_sent_year)
        with freeze_time(datetime(2026, 5, 10, 21, 0)):  # 23:00 in Luxembourg, 11 May 9:00 in Auckland
            self.Card._cron_birthday()
            self.Card._cron_birthday()
        for card in (lux, nz, shy):
            self.assertEqual(card.birthday_sent_year, 2026)
            self.assertEqual(card.points_balance, 30, "the birthday bonus, once")
            self.assertLedgerMatches(card)
        self.assertEqual(len(self.mails(lux, "mail_template_birthday")), 1)
        self.assertEqual(len(self.mails(nz, "mail_template_birthday")), 1)
        self.assertFalse(self.mails(shy, "mail_template_birthday"), "no marketing consent, no birthday email")
        with freeze_time(datetime(2027, 5, 10, 12, 0)):
            self.Card._cron_birthday()
        self.assertEqual(lux.birthday_sent_year, 2027)
        self.assertEqual(lux.points_balance, 60)

    def test_birthday_killed_then_rerun_and_29_february(self):
        first = self.new_card("First", 0, birthday=date(1990, 3, 3), tz="UTC")
        second = self.new_card("Second", 0, birthday=date(1991, 3, 3), tz="UTC")
        leap = self.new_card("Leap", 0, birthday=date(2000, 2, 29), tz="UTC")
        (first | second | leap).write({"marketing_consent": True})
        with freeze_time(datetime(2026, 3, 3, 9, 0)):
            first._celebrate_birthday(2026)  # the run died after this card
            self.Card._cron_birthday(batch_size=1)
        for card in (first, second):
            self.assertEqual(card.points_balance, 30)
            self.assertEqual(len(self.mails(card, "mail_template_birthday")), 1)
        with freeze_time(datetime(2026, 2, 28, 9, 0)):  # 2026 has no 29 February
            self.Card._cron_birthday()
        self.assertEqual(leap.birthday_sent_year, 2026)

    # ---------------------------------------------------------------- re-engagement

    def test_reengagement_selection_and_quarter(self):
        with freeze_time(T0):
            idle = self.new_card("Sleepy", 10)
            idle.marketing_consent = True
            recent = self.new_card("Recent", 10)
            recent.marketing_consent = True
            no_consent = self.new_card("Private", 10)
        with freeze_time(T0 + timedelta(days=30)):
            recent._apply_ledger({"transaction_type": "points_earned", "points_delta": 1, "shop_id": self.bakery.id})
        with freeze_time(T0 + timedelta(days=61)):
            self.Card._cron_reengage()
            self.Card._cron_reengage()
        self.assertEqual(len(self.mails(idle, "mail_template_reengagement")), 1)
        self.assertFalse(self.mails(recent, "mail_template_reengagement"))
        self.assertFalse(self.mails(no_consent, "mail_template_reengagement"))
        with freeze_time(T0 + timedelta(days=61 + 70)):
            self.Card._cron_reengage()
        self.assertEqual(len(self.mails(idle, "mail_template_reengagement")), 1, "once a quarter at most")
        self.assertEqual(len(self.mails(recent, "mail_template_reengagement")), 1)
        with freeze_time(T0 + timedelta(days=61 + 91)):
            self.Card._cron_reengage(batch_size=1)
        self.assertEqual(len(self.mails(idle, "mail_template_reengagement")), 2)

    # ---------------------------------------------------------------- tiers

    def test_tier_review_up_and_down(self):
        self.program.tier_change_email = True
        with freeze_time(T0):
            card = self.new_card("Tiered", 1200)
            low = self.new_card("Low", 100)
        # the ledger dates its rows with the database clock, which freeze_time does not move
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE loyalty_plus_transaction SET create_date = %s WHERE card_id IN %s", [T0, (card.id, low.id)]
        )
        self.assertEqual(card.tier_id, self.silver)
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 1000, "multiplier": 2}
        )
        with freeze_time(T0 + timedelta(days=10)):
            self.Card._cron_review_tiers(chunk_size=1)
            self.Card._cron_review_tiers(chunk_size=1)
        self.assertEqual(card.tier_id, gold, "up")
        self.assertFalse(low.tier_id)
        self.assertEqual(len(self.mails(card, "mail_template_tier_changed")), 1)
        with freeze_time(T0 + timedelta(days=366)):
            self.Card._cron_review_tiers()
        self.assertFalse(card.tier_id, "down: nothing earned over the last 12 months")
        tier_mails = self.env["mail.mail"].search(
            [("model", "=", "loyalty_plus.card"), ("res_id", "=", card.id), ("subject", "ilike", "tier")]
        )
        self.assertEqual(len(tier_mails), 1, "no email for losing every tier")

    # ---------------------------------------------------------------- reward ready

    def test_reward_ready_once_per_crossing(self):
        Card = self.env["loyalty_plus.card"]
        card = self.new_card("Ready", 0)
        card._apply_ledger({"transaction_type": "points_earned", "points_delta": 60, "shop_id": self.bakery.id})
        Card._cron_send_reward_ready_mails()
        self.assertFalse(self.mails(card, "mail_template_reward_ready"))
        card._apply_ledger(
            {"transaction_type": "points_earned", "points_delta": 50, "shop_id": self.bakery.id}
        )  # 110 >= the reward's 100
        # the operation only flags the card: no email rendered in the till's request
        self.assertFalse(self.mails(card, "mail_template_reward_ready"))
        self.assertTrue(card.reward_ready_mail_due)
        card._apply_ledger({"transaction_type": "points_earned", "points_delta": 5, "shop_id": self.bakery.id})
        Card._cron_send_reward_ready_mails()
        Card._cron_send_reward_ready_mails()  # nothing twice
        self.assertEqual(len(self.mails(card, "mail_template_reward_ready")), 1)
        self.assertFalse(card.reward_ready_mail_due)
        card._apply_ledger(
            {"transaction_type": "points_redeemed", "points_delta": -100, "shop_id": self.bakery.id}
        )  # back below
        card._apply_ledger(
            {"transaction_type": "points_earned", "points_delta": 100, "shop_id": self.bakery.id}
        )  # crosses again
        Card._cron_send_reward_ready_mails()
        self.assertEqual(len(self.mails(card, "mail_template_reward_ready")), 2)
        # a full stamp card is a crossing of its own
        for _i in range(3):
            card._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id})
        Card._cron_send_reward_ready_mails()
        self.assertEqual(len(self.mails(card, "mail_template_reward_ready")), 3)
        # crossed, then spent before the cron ran: nothing is waiting any more, no email
        card._apply_ledger({"transaction_type": "stamp_redeemed", "stamps_delta": -3, "shop_id": self.bakery.id})
        card._apply_ledger(
            {"transaction_type": "points_redeemed", "points_delta": -card.points_balance, "shop_id": self.bakery.id}
        )
        card._apply_ledger({"transaction_type": "points_earned", "points_delta": 150, "shop_id": self.bakery.id})
        card._apply_ledger({"transaction_type": "points_redeemed", "points_delta": -150, "shop_id": self.bakery.id})
        self.assertTrue(card.reward_ready_mail_due)
        Card._cron_send_reward_ready_mails()
        self.assertEqual(len(self.mails(card, "mail_template_reward_ready")), 3)


@tagged("post_install", "-at_install")
class TestExpirationParallel(CommittedDataCase):
    """The expiration as it runs in production: partitions side by side in threads, each on its own
    connection, committing chunk by chunk, next to a till that holds a card. The data is committed,
    and removed afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env,
                "Expiry",
                program_type="points",
                points_expiration_days=100,
                welcome_bonus_points=0,
            )
            partners = env["res.partner"].create([{"name": f"Sleeper {i}"} for i in range(9)])
            cards = env["loyalty_plus.card"].create(
                [{"partner_id": partner.id, "program_id": program.id, "shop_id": company.id} for partner in partners]
            )
            for i, card in enumerate(cards):
                card._apply_ledger({"transaction_type": "points_earned", "points_delta": 10 + i, "shop_id": company.id})
            # a tenth card, still active: not due
            busy = env["loyalty_plus.card"].create(
                {"partner_id": env["res.partner"].create({"name": "Busy"}).id, "program_id": program.id}
            )
            busy._apply_ledger({"transaction_type": "points_earned", "points_delta": 7, "shop_id": company.id})
            env.flush_all()
            env.cr.execute(
                "UPDATE loyalty_plus_card SET last_activity_date = now() at time zone 'UTC' - interval '200 days' "
                "WHERE id IN %s",
                [tuple(cards.ids)],
            )
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "partners": partners.ids + busy.partner_id.ids,
                "cards": cards.ids,
                "busy": busy.id,
            }

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            remove_committed_merchant(cr, ids["company"], ids["program"], ids["partners"])
        super().tearDownClass()

    def _expire(self, workers=2):
        """One run of the expiration of the test's program, as the cron runs it (chunks of 2)."""
        with self.registry.cursor() as cr:
            # a transaction object of its own up front: the test runner holds Registry._lock
            cr.transaction = Transaction(self.registry)
            Card = api.Environment(cr, api.SUPERUSER_ID, {})["loyalty_plus.card"]
            now = datetime.now()
            expired, remaining, out_of_time = Card._expire_program_points(
                self.ids["program"], now - timedelta(days=100), now, 2, workers, len(self.ids["cards"])
            )
            self.assertFalse(out_of_time)
            return expired, remaining

    def _ledger(self):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT c.id, c.points_balance, c.total_points_expired, c.expired_notice_points,
                          c.total_points_earned - c.total_points_expired,
                          (SELECT coalesce(sum(points_delta), 0) FROM loyalty_plus_transaction WHERE card_id = c.id),
                          (SELECT count(*) FROM loyalty_plus_transaction
                            WHERE card_id = c.id AND transaction_type = 'points_expired')
                     FROM loyalty_plus_card c WHERE c.program_id = %s""",
                [self.ids["program"]],
            )
            return {row[0]: row[1:] for row in cr.fetchall()}

    def test_parallel_expiration_with_a_till_holding_a_card(self):
        held_id = self.ids["cards"][4]
        with self.registry.cursor() as till_cr:
            # a till serves a due card: it holds the card's row lock while the expiration runs
            till_cr.execute("SELECT id FROM loyalty_plus_card WHERE id = %s FOR UPDATE", [held_id])
            expired, remaining = self._expire()
            self.assertEqual(expired, 8, "every due card but the held one, without waiting for the till")
            self.assertEqual(remaining, 1)
            till_cr.rollback()
        ledger = self._ledger()
        for i, card_id in enumerate(self.ids["cards"]):
            balance, expired_total, notice, earned_left, ledger_sum, expired_rows = ledger[card_id]
            self.assertEqual(balance, ledger_sum)
            self.assertEqual(balance, earned_left)
            if card_id == held_id:
                self.assertEqual((balance, expired_rows, notice), (10 + i, 0, 0))
            else:
                self.assertEqual((balance, expired_total, notice, expired_rows), (0, 10 + i, 10 + i, 1))
        self.assertEqual(ledger[self.ids["busy"]][:3], (7, 0, 0), "an active card keeps its points")
        # the next run takes the card the till held, and nothing twice
        self.assertEqual(self._expire()[0], 1)
        self.assertEqual(self._expire()[0], 0)
        ledger = self._ledger()
        self.assertEqual(ledger[held_id][:3], (0, 14, 14))
        self.assertEqual(sum(row[-1] for row in ledger.values()), 9, "one ledger row per expired card")
