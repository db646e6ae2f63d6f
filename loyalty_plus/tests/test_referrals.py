import threading
import time
from datetime import datetime, timedelta

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import AccessError, UserError
from odoo.orm.environments import Transaction
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.models.loyalty_plus_card_referral import REFERRAL_CODE_ALPHABET

from .common import CommittedDataCase, LoyaltyPlusCase, create_committed_merchant, remove_committed_merchant


def sale(amount):
    """The lines of a purchase of ``amount`` (one line, no product)."""
    return [{"product_id": False, "qty": 1, "price_incl": amount, "price_excl": amount}]


@tagged("post_install", "-at_install")
class TestReferrals(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write(
            {
                "referral_bonus_points": 50,
                "referral_bonus_stamps": 1,
                "referred_bonus_points": 30,
                "referred_bonus_stamps": 0,
                "referral_weekly_flag": 2,
                "stamp_cooldown_minutes": 0,
            }
        )
        cls.Card = cls.env["loyalty_plus.card"]

    def _new_card(self, name, email=None, phone=None, shop=None):
        partner = self.env["res.partner"].create({"name": name, "email": email, "phone": phone})
        return self.Card.create(
            {"partner_id": partner.id, "program_id": self.program.id, "shop_id": (shop or self.bakery).id}
        )

    def _referred(self, name="Nina Kayser", **kwargs):
        friend = self._new_card(name, email=f"{name.split()[0].lower()}@example.com", **kwargs)
        return friend, friend._register_referral(self.card.referral_code)

    def _bonus_rows(self, card):
        return card.transaction_ids.filtered(lambda row: row.transaction_type == "referral_bonus")

    # ------------------------------------------------------------------ codes

    def test_every_card_gets_a_readable_unique_code(self):
        cards = self.card | self._new_card("Ada") | self._new_card("Bo")
        codes = cards.mapped("referral_code")
        self.assertEqual(len(set(codes)), 3)
        for code in codes:
            self.assertEqual(len(code), 8)
            self.assertTrue(set(code) <= set(REFERRAL_CODE_ALPHABET), code)
            self.assertFalse(set(code) & set("IO01"), code)
        self.assertIn(f"ref={self.card.referral_code}", self.card.referral_url)
        self.assertTrue(self.card.referral_url.startswith(self.card.get_base_url()))

    def test_cards_from_before_referrals_get_their_code_on_update(self):
        other = self._new_card("Ada")
        self.env.cr.execute(
            "UPDATE loyalty_plus_card SET referral_code = NULL WHERE id IN %s", [(self.card.id, other.id)]
        )
        kept = self._new_card("Bo").referral_code
        self.Card._fill_referral_codes()
        (self.card | other).invalidate_recordset(["referral_code"])
        self.assertTrue(self.card.referral_code and other.referral_code)
        self.assertEqual(len({self.card.referral_code, other.referral_code, kept}), 3)

    # ------------------------------------------------------------------ enrollment with a code

    def test_code_records_pending_referral(self):
        friend, referral = self._referred()
        self.assertEqual(referral.state, "pending")
        self.assertFalse(referral.flagged)
        self.assertEqual(referral.referrer_card_id, self.card)
        self.assertEqual(referral.referred_card_id, friend)
        self.assertEqual(friend.referred_by_id, self.card)
        self.assertEqual(self.card.referral_count, 1)
        # a code typed loosely (lower case, a dash) is the same code; the card keeps its one referral
        code = self.card.referral_code
        self.assertEqual(friend._register_referral(f" {code[:4].lower()}-{code[4:]} "), referral)

    def test_unknown_code_is_refused_and_the_card_stands(self):
        friend = self._new_card("Nina")
        for code in ("NOPE2345", "", self.cafe_card_code()):
            with self.subTest(code=code):
                refusal = self.refusal_of(lambda code=code: friend._register_referral(code))
                self.assertEqual(refusal.code, "referral_not_found")
        self.assertTrue(friend.exists())
        self.assertFalse(friend.referred_by_id)
        self.assertFalse(self.env["loyalty_plus.referral"].search([("referred_card_id", "=", friend.id)]))

    def cafe_card_code(self):
        partner = self.env["res.partner"].create({"name": "Café regular"})
        return self.Card.create({"partner_id": partner.id, "program_id": self.cafe_program.id}).referral_code

    def test_self_referral_is_refused(self):
        self.bakery.loyalty_plus_cross_location = False  # one card per shop: a second card of one customer
        own_other_card = self.Card.create(
            {"partner_id": self.partner.id, "program_id": self.program.id, "shop_id": self.branch_esch.id}
        )
        referral = own_other_card._register_referral(self.card.referral_code)
        self.assertEqual((referral.state, referral.refusal_code), ("refused", "self_referral"))
        self.assertTrue(referral.reason)

    def test_shared_email_or_phone_is_refused(self):
        same_email = self._new_card("Lea Other", email="LEA@example.com")
        same_phone = self._new_card("Lea Phone", email="lea.phone@example.com", phone="+352 621 000 001")
        for card, code in ((same_email, "shared_email"), (same_phone, "shared_phone")):
            referral = card._register_referral(self.card.referral_code)
            self.assertEqual((referral.state, referral.refusal_code), ("refused", code))
            card._earn_order(sale(20), self.bakery, order_ref=f"REF-{code}")
            self.assertEqual(referral.state, "refused")
            self.assertFalse(self._bonus_rows(card))
        self.assertFalse(self._bonus_rows(self.card), "a refused referral pays nobody")

    # ------------------------------------------------------------------ reward

    def test_first_qualifying_purchase_pays_both_once(self):
        friend, referral = self._referred()
        points_before, stamps_before = self.card.points_balance, self.card.stamp_count
        friend._earn_order(sale(1.5), self.bakery, order_ref="REF-SMALL")
        self.assertEqual(referral.state, "pending", "below the minimum purchase of 2: no bonus")
        self.assertFalse(referral.qualified_date)

        friend._earn_order(sale(12), self.bakery, order_ref="REF-1")
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(referral.order_ref, "REF-1")
        self.assertEqual(self.card.points_balance, points_before + 50)
        self.assertEqual(self.card.stamp_count, stamps_before + 1)
        friend_bonus = self._bonus_rows(friend)
        self.assertEqual(friend_bonus.points_delta, 30)
        self.assertEqual(friend_bonus.stamps_delta, 0)
        self.assertIn(self.card.card_number, friend_bonus.note)
        self.assertEqual(referral.transaction_ids, friend_bonus | self._bonus_rows(self.card))

        # a replay of the order, and later purchases, pay nothing more
        friend._earn_order(sale(12), self.bakery, order_ref="REF-1")
        friend._earn_order(sale(30), self.bakery, order_ref="REF-2")
        self.assertEqual(len(self._bonus_rows(friend)), 1)
        self.assertEqual(len(self._bonus_rows(self.card)), 1)
        self.assertLedgerMatches(self.card)
        self.assertLedgerMatches(friend)

    def test_purchase_without_order_reference_qualifies(self):
        friend, referral = self._referred()
        friend._earn(12, self.bakery)
        self.assertEqual(referral.state, "rewarded")
        self.assertFalse(referral.order_ref)
        self.assertEqual(self._bonus_rows(self.card).points_delta, 50)

    def test_refund_of_the_first_purchase_takes_both_bonuses_back(self):
        friend, referral = self._referred()
        friend._earn_order(sale(8) + sale(4), self.bakery, order_ref="REF-1")
        self.assertEqual(referral.state, "rewarded")
        # a partial return that still qualifies changes nothing
        friend._void_order_earnings("REF-1", sale(4), sale(8), self.bakery)
        self.assertEqual(referral.state, "rewarded")
        points_before, stamps_before = self.card.points_balance, self.card.stamp_count

        friend._void_order_earnings("REF-1", sale(8), [], self.bakery, note="Returned")
        self.assertEqual(referral.state, "reversed")
        self.assertEqual(self.card.points_balance, points_before - 50)
        self.assertEqual(self.card.stamp_count, stamps_before - 1)
        voids = referral.transaction_ids.filtered("origin_transaction_id")
        self.assertEqual(set(voids.mapped("transaction_type")), {"points_voided", "stamp_voided"})
        self.assertEqual(voids.origin_transaction_id, self._bonus_rows(friend) | self._bonus_rows(self.card))
        self.assertLedgerMatches(self.card)
        self.assertLedgerMatches(friend)
        # reversed for good: the next purchase pays nothing
        friend._earn_order(sale(20), self.bakery, order_ref="REF-3")
        self.assertEqual(referral.state, "reversed")
        self.assertEqual(len(self._bonus_rows(friend)), 1)

    def test_bonus_already_spent_is_taken_back_as_far_as_it_goes(self):
        self.card._apply_ledger({"transaction_type": "points_earned", "points_delta": 60, "shop_id": self.bakery.id})
        friend, referral = self._referred()
        friend._earn_order(sale(12), self.bakery, order_ref="REF-1")
        self.assertEqual(self.card.points_balance, 20 + 60 + 50)
        self.card._redeem_reward(self.reward, self.bakery)  # 100 points: 30 of the bonus are left
        friend._void_order_earnings("REF-1", sale(12), [], self.bakery)
        self.assertEqual(referral.state, "reversed")
        self.assertEqual(self.card.points_balance, 0)
        void = referral.transaction_ids.filtered(lambda row: row.card_id == self.card and row.points_delta < 0)
        self.assertEqual(void.points_delta, -30)
        self.assertLedgerMatches(self.card)

    # ------------------------------------------------------------------ flagging

    def test_many_referrals_in_a_week_wait_for_a_manager(self):
        start = datetime(2026, 12, 1, 10, 0)
        referrals = self.env["loyalty_plus.referral"]
        with freeze_time(start) as frozen:
            for name in ("Ann A", "Ben B", "Cid C"):
                referrals |= self._referred(name)[1]
                frozen.tick(timedelta(days=1))
        self.assertEqual(referrals.mapped("flagged"), [False, False, True], "the third within 7 days")

        flagged = referrals[2]
        flagged.referred_card_id._earn_order(sale(10), self.bakery, order_ref="REF-F")
        self.assertEqual((flagged.state, flagged.order_ref), ("pending", "REF-F"), "qualified, not paid")
        self.assertTrue(flagged.qualified_date)
        self.assertFalse(self._bonus_rows(flagged.referred_card_id))

        with self.assertRaises(AccessError):
            self.as_user(flagged, self.cashier).action_approve()
        self.as_user(flagged, self.manager).action_approve()
        self.assertEqual(flagged.state, "rewarded")
        self.assertEqual(flagged.approved_uid, self.manager)
        self.assertEqual(self._bonus_rows(flagged.referred_card_id).points_delta, 30)

        # a week later the count starts again
        with freeze_time(start + timedelta(days=10)):
            self.assertFalse(self._referred("Dan D")[1].flagged)

    def test_flagged_referral_forgets_a_refunded_purchase(self):
        self.program.referral_weekly_flag = 1
        self._referred("Ann A")
        friend, flagged = self._referred("Ben B")
        self.assertTrue(flagged.flagged)
        friend._earn_order(sale(10), self.bakery, order_ref="REF-F1")
        friend._void_order_earnings("REF-F1", sale(10), [], self.bakery)
        self.assertEqual(flagged.state, "pending")
        self.assertFalse(flagged.qualified_date, "the refunded purchase no longer counts")
        # approved before any purchase qualifies: the next one pays
        self.as_user(flagged, self.manager).action_approve()
        self.assertEqual(flagged.state, "pending")
        self.assertFalse(self._bonus_rows(friend))
        friend._earn_order(sale(10), self.bakery, order_ref="REF-F2")
        self.assertEqual((flagged.state, flagged.order_ref), ("rewarded", "REF-F2"))

    def test_manager_refuses_a_waiting_referral(self):
        _friend, referral = self._referred()
        self.as_user(referral, self.manager).action_refuse()
        self.assertEqual((referral.state, referral.refusal_code), ("refused", "manager"))
        referral.referred_card_id._earn_order(sale(10), self.bakery, order_ref="REF-R")
        self.assertFalse(self._bonus_rows(self.card))
        with self.assertRaises(UserError):
            self.as_user(referral, self.manager).action_approve()

    def test_flag_threshold_zero_never_flags(self):
        self.program.referral_weekly_flag = 0
        referrals = [self._referred(name)[1] for name in ("Ann A", "Ben B", "Cid C", "Dan D")]
        self.assertFalse(any(referral.flagged for referral in referrals))

    # ------------------------------------------------------------------ shown to the member

    def test_welcome_email_carries_the_link(self):
        template = self.env.ref("loyalty_plus.mail_template_enrollment")
        body = template._generate_template(self.card.ids, ["body_html"])[self.card.id]["body_html"]
        self.assertIn(self.card.referral_url.replace("&", "&amp;"), body)
        self.assertIn("o_loyalty_plus_mail_referral", body)
        self.program.write({"referral_bonus_points": 0, "referral_bonus_stamps": 0, "referred_bonus_points": 0})
        body = template._generate_template(self.card.ids, ["body_html"])[self.card.id]["body_html"]
        self.assertNotIn("o_loyalty_plus_mail_referral", body, "no bonus, no invitation")

    def test_offer_sentence(self):
        self.assertEqual(
            self.program._get_referral_offer(),
            "When a friend joins with your link and makes a first purchase, you get 50 points and 1 stamp "
            "and your friend gets 30 points.",
        )
        self.program.write({"referral_bonus_points": 0, "referral_bonus_stamps": 0})
        self.assertEqual(
            self.program._get_referral_offer(),
            "When a friend joins with your link, they get 30 points with their first purchase.",
        )

    def test_api_enroll_with_a_code(self):
        """The API's enrollment records the referral, and never refuses a customer for a bad code."""
        referral = self.env["loyalty_plus.api"]._api_register_referral(self._new_card("Nina"), self.card.referral_code)
        self.assertEqual(referral, {"state": "pending", "reason": None})
        unknown = self.env["loyalty_plus.api"]._api_register_referral(self._new_card("Omar"), "WRONG234")
        self.assertEqual(unknown, {"state": "not_found", "reason": "referral_not_found"})

    def test_summary_carries_the_code_and_the_link_to_share(self):
        """The till, the website and API clients show the member's code; the link only where inviting
        a friend earns something."""
        summary = self.card._get_summary()
        self.assertEqual(summary["referral_code"], self.card.referral_code)
        self.assertEqual(summary["referral_link"], self.card.referral_url)
        self.assertIn(f"ref={self.card.referral_code}", summary["referral_link"])
        self.program.write({"referral_bonus_points": 0, "referral_bonus_stamps": 0, "referred_bonus_points": 0})
        summary = self.card._get_summary()
        self.assertEqual((summary["referral_code"], summary["referral_link"]), (self.card.referral_code, False))


@tagged("post_install", "-at_install")
class TestReferralRace(CommittedDataCase):
    """Two purchases of the referred member synced at the same instant, each in its own
    transaction: the referral bonuses are paid once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env,
                "Referral race",
                program_type="points",
                points_per_euro=1,
                referral_bonus_points=50,
                referred_bonus_points=30,
            )
            Partner, Card = env["res.partner"], env["loyalty_plus.card"]
            referrer = Partner.create({"name": "Referrer", "email": "referrer.race@example.com"})
            friend = Partner.create({"name": "Friend", "email": "friend.race@example.com"})
            referrer_card = Card.create({"partner_id": referrer.id, "program_id": program.id})
            friend_card = Card.create({"partner_id": friend.id, "program_id": program.id})
            referral = friend_card._register_referral(referrer_card.referral_code)
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "partners": [referrer.id, friend.id],
                "referrer_card": referrer_card.id,
                "friend_card": friend_card.id,
                "referral": referral.id,
            }

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            cr.execute("DELETE FROM loyalty_plus_referral WHERE program_id = %s", [ids["program"]])
            remove_committed_merchant(cr, ids["company"], ids["program"], ids["partners"])
        super().tearDownClass()

    def test_two_first_purchases_at_once_pay_once(self):
        barrier = threading.Barrier(2)
        outcomes = []

        def sync(order_ref):
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SELECT 1")  # the snapshot opens before the race
                    barrier.wait(timeout=10)
                    for _attempt in range(5):  # what the server does for a request: replay on a conflict
                        cr.transaction = Transaction(self.registry)
                        env = api.Environment(cr, api.SUPERUSER_ID, {})
                        card = env["loyalty_plus.card"].browse(self.ids["friend_card"])
                        try:
                            card._earn_order(sale(20), card.company_id, order_ref=order_ref)
                            cr.commit()  # pylint: disable=invalid-commit  # each sync is its own transaction
                            outcomes.append("ok")
                            break
                        except SerializationFailure:
                            cr.rollback()
                            time.sleep(0.05)
            except Exception as error:  # reported by the assertion below
                outcomes.append(repr(error))

        threads = [threading.Thread(target=sync, args=(ref,)) for ref in ("RACE-1", "RACE-2")]
        with mute_logger("odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        self.assertEqual(outcomes, ["ok", "ok"])
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT card_id, count(*), sum(points_delta) FROM loyalty_plus_transaction
                    WHERE program_id = %s AND transaction_type = 'referral_bonus' GROUP BY card_id""",
                [self.ids["program"]],
            )
            paid = {card_id: (count, points) for card_id, count, points in cr.fetchall()}
            cr.execute("SELECT state, order_ref FROM loyalty_plus_referral WHERE id = %s", [self.ids["referral"]])
            state, order_ref = cr.fetchone()
        self.assertEqual(paid, {self.ids["referrer_card"]: (1, 50), self.ids["friend_card"]: (1, 30)})
        self.assertEqual(state, "rewarded")
        self.assertIn(order_ref, ("RACE-1", "RACE-2"))
