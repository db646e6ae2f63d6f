from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal
from odoo.addons.loyalty_plus.models.loyalty_plus_card import is_valid_card_number, normalize_card_number

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestLoyaltyPlusOperations(LoyaltyPlusCase):
    def setUp(self):
        super().setUp()
        self.card_m = self.as_user(self.card, self.manager)

    def stamp(self, card=None, pin="1234", staff=None, shop=None):
        card = card or self.card_m
        return card.add_stamp(staff_pin_id=(staff or self.pin_anna).id, pin=pin, shop_id=(shop or self.bakery).id)

    # enrollment --------------------------------------------------------

    def test_card_number_and_welcome_bonus(self):
        self.assertTrue(is_valid_card_number(self.card.card_number))
        self.assertEqual(normalize_card_number(f"LPC{self.card.card_number}"), self.card.card_number)
        wrong = self.card.card_number[:-1] + str((int(self.card.card_number[-1]) + 1) % 10)
        self.assertFalse(is_valid_card_number(wrong))
        self.assertEqual(self.card.points_balance, 20)
        self.assertEqual(self.card.transaction_ids.transaction_type, "welcome_bonus")
        self.assertLedgerMatches(self.card)

    def test_enroll_cross_location_on_returns_existing(self):
        Card = self.as_user(self.env["loyalty_plus.card"], self.manager)
        card, created = Card._enroll(self.partner, self.branch_esch)
        self.assertFalse(created)
        self.assertEqual(card, self.card)
        card2, created2 = Card._enroll(self.partner2, self.branch_esch)
        self.assertTrue(created2)
        self.assertEqual(card2.shop_id, self.branch_esch)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["loyalty_plus.card"].create(
                {"partner_id": self.partner.id, "program_id": self.program.id, "shop_id": self.branch_diff.id}
            )

    def test_enroll_cross_location_off_one_card_per_shop(self):
        self.bakery.loyalty_plus_cross_location = False
        Card = self.as_user(self.env["loyalty_plus.card"], self.manager)
        card, created = Card._enroll(self.partner, self.branch_esch)
        self.assertTrue(created)
        self.assertNotEqual(card, self.card)
        again, created = Card._enroll(self.partner, self.branch_esch)
        self.assertFalse(created)
        self.assertEqual(again, card)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["loyalty_plus.card"].create(
                {"partner_id": self.partner.id, "program_id": self.program.id, "shop_id": self.branch_esch.id}
            )
        # back on is refused while the customer holds two cards
        with self.assertRaises(ValidationError):
            self.bakery.loyalty_plus_cross_location = True

    def test_cross_location_off_refuses_other_shop(self):
        self.bakery.loyalty_plus_cross_location = False
        with self.assertRaisesRegex(UserError, "valid only in Test Bakery"):
            self.stamp(pin="5678", staff=self.pin_esch, shop=self.branch_esch)
        self.bakery.loyalty_plus_cross_location = True
        result = self.stamp(pin="5678", staff=self.pin_esch, shop=self.branch_esch)
        self.assertTrue(result["ok"])

    # stamps and PINs ---------------------------------------------------

    def test_stamp_requires_pin(self):
        with self.assertRaisesRegex(UserError, "staff PIN is required"):
            self.card_m.add_stamp(shop_id=self.bakery.id)
        self.program.require_staff_pin = False
        self.assertEqual(self.card_m.add_stamp(shop_id=self.bakery.id)["card"]["stamps"], 1)

    def test_stamp_with_pin_and_cooldown(self):
        result = self.stamp()
        self.assertTrue(result["ok"])
        self.assertEqual(result["card"]["stamps"], 1)
        tx = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertEqual((tx.transaction_type, tx.stamps_delta, tx.staff_pin_id), ("stamp_earned", 1, self.pin_anna))
        with self.assertRaisesRegex(UserError, "next stamp is possible in 15 minutes"):
            self.stamp()
        self.assertEqual(self.card.stamp_count, 1)
        self.assertLedgerMatches(self.card)

    def test_daily_limit(self):
        self.program.stamp_cooldown_minutes = 0
        self.stamp()
        self.stamp()
        with self.assertRaisesRegex(UserError, "Daily limit reached: this card already got 2 stamps today"):
            self.stamp()

    def test_wrong_pin_then_lock_then_unlock(self):
        for left in (4, 3, 2, 1):
            refusal = self.refusal_of(lambda: self.stamp(pin="0000"))
            self.assertEqual(refusal.code, "wrong_pin")
            self.assertIn(f"{left} attempts left", refusal.args[0])
        refusal = self.refusal_of(lambda: self.stamp(pin="0000"))
        self.assertEqual(refusal.code, "pin_locked")
        self.assertIn("now locked until", refusal.args[0])
        self.assertTrue(self.pin_anna.is_locked)
        with self.assertRaisesRegex(UserError, "locked until"):
            self.stamp()  # even the right PIN
        self.assertEqual(self.card.stamp_count, 0)
        with self.assertRaises(AccessError):
            self.as_user(self.pin_anna, self.cashier).action_unlock()
        self.as_user(self.pin_anna, self.manager).action_unlock()
        self.assertTrue(self.stamp()["ok"])

    def test_lock_expires(self):
        self.pin_anna.sudo().write({"locked_until": fields.Datetime.now() - timedelta(minutes=1)})
        self.assertTrue(self.stamp()["ok"])

    def test_pin_of_other_shop_refused(self):
        with self.assertRaisesRegex(UserError, "not valid in Test Bakery"):
            self.stamp(pin="5678", staff=self.pin_esch, shop=self.bakery)

    def test_pin_validation(self):
        with self.assertRaisesRegex(ValidationError, "4 to 8 digits"):
            self.env["loyalty_plus.staff_pin"].create(
                {"name": "X", "program_id": self.program.id, "shop_id": self.bakery.id, "new_pin": "12a4"}
            )
        self.assertNotIn("1234", self.pin_anna.sudo().pin_hash)

    def test_redeem_stamps_at_target(self):
        self.program.stamp_cooldown_minutes = 0
        self.program.max_stamps_per_day = 0
        self.stamp()
        self.stamp()
        with self.assertRaisesRegex(UserError, "Not enough stamps: 2 of 3"):
            self.card_m.redeem_stamps(staff_pin_id=self.pin_anna.id, pin="1234", shop_id=self.bakery.id)
        result = self.stamp()
        self.assertTrue(result["reward_ready"])
        self.stamp()
        result = self.card_m.redeem_stamps(staff_pin_id=self.pin_anna.id, pin="1234", shop_id=self.bakery.id)
        self.assertEqual(result["card"]["stamps"], 1)
        self.assertEqual(self.card.total_stamps_redeemed, 3)
        redemption = self.env["loyalty_plus.redemption"].search([("code", "=", result["code"])])
        self.assertEqual(redemption.description, "Free item")
        self.assertLedgerMatches(self.card)

    # points ------------------------------------------------------------

    def test_earn_minimum_purchase_and_idempotency(self):
        with self.assertRaisesRegex(UserError, "Below the minimum purchase"):
            self.card_m.earn_points(1.5, order_ref="A1", shop_id=self.bakery.id)
        first = self.card_m.earn_points(12.34, order_ref="A1", shop_id=self.bakery.id)
        self.assertEqual(first["points"], 123)
        again = self.card_m.earn_points(12.34, order_ref="A1", shop_id=self.bakery.id)
        self.assertTrue(again["replayed"])
        self.assertEqual(again["transaction_id"], first["transaction_id"])
        self.assertEqual(self.card.points_balance, 20 + 123)
        self.assertLedgerMatches(self.card)
        other = self.env["loyalty_plus.card"].create({"partner_id": self.partner2.id, "program_id": self.program.id})
        with self.assertRaisesRegex(UserError, "already earned points on another card"):
            self.as_user(other, self.manager).earn_points(10, order_ref="A1", shop_id=self.bakery.id)
        for bad in (0, -5, "abc"):
            with self.assertRaises(UserError):
                self.card_m.earn_points(bad, shop_id=self.bakery.id)

    def test_tier_and_multiplier(self):
        self.card_m.earn_points(50, order_ref="T1", shop_id=self.bakery.id)  # 500 + 20 welcome
        self.assertEqual(self.card.tier_id, self.silver)
        result = self.card_m.earn_points(10, order_ref="T2", shop_id=self.bakery.id)
        self.assertEqual(result["points"], 150)
        self.assertEqual(result["card"]["tier"], "Silver")

    def test_redeem_reward_rules(self):
        with self.assertRaisesRegex(UserError, "from 50 points; this card has 20"):
            self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)
        self.card_m.earn_points(6, order_ref="R1", shop_id=self.bakery.id)  # 80
        with self.assertRaisesRegex(UserError, "Not enough points: the card has 80, Free croissant costs 100"):
            self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)
        self.card_m.earn_points(30, order_ref="R2", shop_id=self.bakery.id)  # 380
        self.reward.write({"limited_stock": True, "stock_qty": 1})
        result = self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)
        self.assertEqual(result["card"]["points"], 280)
        self.assertEqual(self.reward.stock_qty, 0)
        with self.assertRaisesRegex(UserError, "not available now"):
            self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)
        self.reward.write(
            {
                "stock_qty": 5,
                "date_to": fields.Date.today() - timedelta(days=1),
                "date_from": fields.Date.today() - timedelta(days=10),
            }
        )
        with self.assertRaisesRegex(UserError, "not available now"):
            self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)
        cafe_reward = self.env["loyalty_plus.reward"].create(
            {"name": "Coffee", "program_id": self.cafe_program.id, "points_cost": 10, "reward_kind": "voucher"}
        )
        with self.assertRaisesRegex(UserError, "not part of the program"):
            self.card_m.redeem_reward(cafe_reward.id, shop_id=self.bakery.id)
        # the code is honoured once
        Redemption = self.as_user(self.env["loyalty_plus.redemption"], self.cashier)
        self.assertEqual(Redemption.consume(result["code"])["description"], "Free croissant")
        with self.assertRaisesRegex(UserError, "cannot be used: Used"):
            Redemption.consume(result["code"])
        self.assertLedgerMatches(self.card)

    # voids and adjustments ---------------------------------------------

    def test_void_partial_then_rest(self):
        earn = self.card_m.earn_points(20, order_ref="V1", shop_id=self.bakery.id)  # 200
        tx = self.as_user(self.env["loyalty_plus.transaction"].browse(earn["transaction_id"]), self.manager)
        self.assertEqual(tx.void(amount=5)["points"], -50)
        with self.assertRaisesRegex(UserError, "at most"):
            tx.void(amount=16)
        self.assertEqual(tx.void()["points"], -150)
        self.assertEqual(self.card.points_balance, 20)
        with self.assertRaises(UserError):
            tx.void()
        self.assertLedgerMatches(self.card)

    def test_void_after_points_spent(self):
        earn = self.card_m.earn_points(10, order_ref="V2", shop_id=self.bakery.id)  # 100 -> 120
        self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)  # 20 left
        tx = self.as_user(self.env["loyalty_plus.transaction"].browse(earn["transaction_id"]), self.manager)
        result = tx.void()
        self.assertEqual(result["points"], -20)
        void_tx = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertIn("80 points were already spent", void_tx.note)
        self.assertEqual(self.card.points_balance, 0)
        self.assertLedgerMatches(self.card)

    def test_void_redemption_gives_points_back(self):
        self.card_m.earn_points(10, order_ref="V3", shop_id=self.bakery.id)
        redeem = self.card_m.redeem_reward(self.reward.id, shop_id=self.bakery.id)
        tx = self.as_user(self.env["loyalty_plus.transaction"].browse(redeem["transaction_id"]), self.manager)
        tx.void()
        self.assertEqual(self.card.points_balance, 120)
        redemption = self.env["loyalty_plus.redemption"].search([("code", "=", redeem["code"])])
        self.assertEqual(redemption.state, "cancelled")
        self.assertLedgerMatches(self.card)

    def test_void_stamp(self):
        result = self.stamp()
        tx = self.as_user(self.env["loyalty_plus.transaction"].browse(result["transaction_id"]), self.manager)
        tx.void()
        self.assertEqual(self.card.stamp_count, 0)
        welcome = self.as_user(
            self.card.transaction_ids.filtered(lambda t: t.transaction_type == "welcome_bonus"), self.manager
        )
        with self.assertRaisesRegex(UserError, "cannot be voided"):
            welcome.void()

    def test_void_stamp_redemption_gives_the_full_card_back(self):
        for _i in range(self.program.stamps_target):
            self.card._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id})
        result = self.as_user(self.card, self.manager).redeem_stamps(
            staff_pin_id=self.pin_anna.id, pin="1234", shop_id=self.bakery.id
        )
        redemption = self.env["loyalty_plus.redemption"].search([("code", "=", result["code"])])
        tx = self.as_user(self.env["loyalty_plus.transaction"].browse(result["transaction_id"]), self.manager)
        tx.void(note="the oven broke: no free item")
        self.assertEqual(self.card.stamp_count, self.program.stamps_target)
        self.assertEqual(self.card.total_stamps_redeemed, 0)
        self.assertEqual(redemption.state, "cancelled")
        back = self.card.transaction_ids.filtered(lambda t: t.transaction_type == "stamp_refunded")
        self.assertEqual((back.stamps_delta, back.origin_transaction_id), (self.program.stamps_target, tx))
        with self.assertRaisesRegex(UserError, "already voided"):
            tx.void()

    def test_adjust(self):
        card_c = self.as_user(self.card, self.cashier)
        with self.assertRaises(AccessError):
            card_c.adjust_points(10, "goodwill")
        with self.assertRaisesRegex(UserError, "Say why"):
            self.card_m.adjust_points(10, "  ")
        with self.assertRaisesRegex(UserError, "cannot lose 21"):
            self.card_m.adjust_points(-21, "typo")
        result = self.card_m.adjust_points(-5, "typo at the till")
        tx = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertEqual((tx.points_delta, tx.admin_user_id, tx.note), (-5, self.manager, "typo at the till"))
        self.assertLedgerMatches(self.card)

    # refusals ----------------------------------------------------------

    def test_inactive_program_card_and_other_merchant(self):
        self.card.active = False
        with self.assertRaisesRegex(UserError, "is not active"):
            self.card_m.earn_points(10, shop_id=self.bakery.id)
        self.card.active = True
        self.program.active = False
        with self.assertRaisesRegex(UserError, "program Bakery Rewards is not active"):
            self.card_m.earn_points(10, shop_id=self.bakery.id)
        self.program.active = True
        cafe_card = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner.id, "program_id": self.cafe_program.id}
        )
        admin_env_card = cafe_card.with_context(allowed_company_ids=[self.bakery.id, self.cafe.id])
        with self.assertRaisesRegex(UserError, "another merchant"):
            admin_env_card.add_stamp(shop_id=self.bakery.id)
        with self.assertRaises(AccessError):
            self.as_user(cafe_card, self.manager).add_stamp(shop_id=self.bakery.id)

    def test_database_constraints(self):
        for field, value in (
            ("stamps_target", 0),
            ("points_per_euro", -1),
            ("welcome_bonus_points", -1),
            ("minimum_purchase", -1),
        ):
            with (
                self.subTest(field=field),
                self.assertRaises(IntegrityError),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.program.write({field: value})
                self.program.flush_recordset()
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env.cr.execute("UPDATE loyalty_plus_card SET points_balance = -1 WHERE id = %s", [self.card.id])
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["loyalty_plus.program"].create({"name": "Second", "company_id": self.bakery.id})
            self.env.flush_all()
        with self.assertRaisesRegex(ValidationError, "not to its shop"):
            self.env["loyalty_plus.program"].create(
                {"name": "Branch", "company_id": self.branch_esch.id, "active": False}
            )

    def test_lookup(self):
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier)
        number = self.card.card_number
        for query in (
            number,
            f"LPC{number}",
            f"{number[:4]} {number[4:8]} {number[8:]}",
            "LEA@example.com",
            "+352621000001",
        ):
            with self.subTest(query=query):
                self.assertEqual(Card.lookup(query, shop_id=self.bakery.id)["id"], self.card.id)
        self.assertFalse(Card.lookup("nobody@example.com", shop_id=self.bakery.id))
        summary = Card.lookup(number, shop_id=self.bakery.id)
        self.assertEqual((summary["first_name"], summary["points"], summary["stamps_target"]), ("Lea", 20, 3))
        with self.assertRaises(AccessError):
            Card.lookup(number, shop_id=self.cafe.id)

    def test_lookup_is_exact_and_never_guesses(self):
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier)
        # "%" and "_" are characters of the address, not wildcards
        for query in ("%@%", "l%@example.com", "_ea@example.com", "lea@example.co_"):
            with self.subTest(query=query):
                self.assertFalse(Card.lookup(query, shop_id=self.bakery.id))
        # a phone number two customers share designates neither
        other = self.env["res.partner"].create({"name": "Max", "email": "max@example.com", "phone": "+352621000001"})
        self.env["loyalty_plus.card"]._enroll(other, self.bakery)
        with self.assertRaisesRegex(UserError, "Several customers share"):
            Card.lookup("+352621000001", shop_id=self.bakery.id)
        self.assertEqual(Card.lookup("lea@example.com", shop_id=self.bakery.id)["id"], self.card.id)

    # enrollment entry point and branch staff ----------------------------

    def test_enroll_entry_point(self):
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier, self.branch_esch)
        summary = Card.enroll(
            "Ana Costa", " Ana@Example.com ", phone="+352691000002", birthday="1990-05-17", marketing_consent=True
        )
        self.assertTrue(summary["created"])
        card = self.env["loyalty_plus.card"].browse(summary["id"])
        self.assertEqual(
            (card.shop_id, card.partner_id.email, card.marketing_consent), (self.branch_esch, "ana@example.com", True)
        )
        self.assertEqual(str(card.partner_id.birthday), "1990-05-17")
        self.assertEqual(summary["points"], 20)
        again = Card.enroll("Ana C.", "ana@example.com")
        self.assertFalse(again["created"])
        self.assertEqual(again["id"], card.id)
        for bad in (
            {"email": "not-an-email"},
            {"birthday": "2999-01-01"},
            {"birthday": "1850-01-01"},
            {"birthday": "31/02/1990"},
            {"name": " "},
            {"name": "N" * 129},
            {"name": "Nul\x00Byte"},
            {"email": "x" * 250 + "@example.com"},
            {"phone": "abc"},
            {"phone": "1" * 5000},
            {"lang": "xx_XX"},
        ):
            vals = {"name": "X", "email": "x@example.com", **bad}
            with self.subTest(bad=bad), self.assertRaises(LoyaltyPlusRefusal) as caught:
                Card.enroll(**vals)
            self.assertEqual(caught.exception.code, "validation_error")
            self.assertEqual(caught.exception.data["field"], next(iter(bad)))
        self.assertFalse(self.env["res.partner"].search([("email", "=", "x@example.com")]))

    def test_branch_only_cashier_stamps(self):
        esch_cashier = self.cashier.copy(
            {
                "login": "lp_esch_only",
                "company_id": self.branch_esch.id,
                "company_ids": [Command.set(self.branch_esch.ids)],
            }
        )
        card = self.as_user(self.card, esch_cashier, self.branch_esch)
        result = card.add_stamp(staff_pin_id=self.pin_esch.id, pin="5678", shop_id=self.branch_esch.id)
        self.assertEqual(result["card"]["stamps"], 1)
        with self.assertRaises(AccessError):
            card.add_stamp(staff_pin_id=self.pin_anna.id, pin="1234", shop_id=self.bakery.id)

    def test_reward_ready_search(self):
        self.program.write({"stamp_cooldown_minutes": 0, "max_stamps_per_day": 0})
        Card = self.env["loyalty_plus.card"]
        self.assertNotIn(self.card, Card.search([("reward_ready", "=", True)]))
        for _i in range(3):
            self.stamp()
        self.assertIn(self.card, Card.search([("reward_ready", "=", True)]))
        self.assertNotIn(self.card, Card.search([("reward_ready", "!=", True)]))


@tagged("post_install", "-at_install")
class TestVoidParts(LoyaltyPlusCase):
    """What a refund gives back a part at a time: free items of a stamp reward, and a purchase
    whose goods were paid net of its rewards."""

    def test_stamp_reward_given_back_item_by_item(self):
        self.card.sudo()._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 6})
        redeemed, redemption = self.card._redeem_stamps(self.bakery, count=2)  # two free items, 3 stamps each
        redeemed._void(self.bakery, stamps=3)
        self.assertEqual((self.card.stamp_count, redemption.state), (3, "issued"))
        redeemed._void(self.bakery, stamps=30)  # never more than the reward spent
        self.assertEqual((self.card.stamp_count, redemption.state), (6, "cancelled"))
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            redeemed._void(self.bakery, stamps=3)
        self.assertEqual(caught.exception.code, "void_refused")
        self.assertLedgerMatches(self.card)

    def test_purchase_voided_up_to_what_is_left(self):
        earned = self.card._earn(10, self.bakery, order_ref="NET-1")  # 100 points
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            earned._void(self.bakery, amount=12)
        self.assertEqual(caught.exception.code, "validation_error")
        earned._void(self.bakery, amount=4)
        result = earned._void(self.bakery, amount=12, up_to_remaining=True)
        self.assertEqual(result["points"], -60)
        self.assertEqual(self.card.points_balance, 20)  # the welcome bonus
        self.assertLedgerMatches(self.card)
