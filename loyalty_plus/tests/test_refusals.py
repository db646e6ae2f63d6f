from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import HTTP_STATUS_BY_CODE, LoyaltyPlusRefusal
from odoo.addons.loyalty_plus.tests.common import in_one_rate_window
from odoo.addons.loyalty_plus.tests.test_api_http import LoyaltyPlusApiHttpCase


@tagged("post_install", "-at_install")
class TestRefusalTable(LoyaltyPlusApiHttpCase):
    """Each refusal code, made to happen through the engine (the typed exception) and through the
    API (HTTP status from the one table, ``context.code``), from the same situation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pin_cafe = cls.env["loyalty_plus.staff_pin"].create(
            {"name": "Jeff", "program_id": cls.cafe_program.id, "shop_id": cls.cafe.id, "new_pin": "4567"}
        )
        cls.diff_card = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.partner2.id, "program_id": cls.program.id, "shop_id": cls.branch_diff.id}
        )
        cls.other_card = cls.env["loyalty_plus.card"].create(
            {
                "partner_id": cls.env["res.partner"].create({"name": "Ana Other", "email": "ana@example.com"}).id,
                "program_id": cls.program.id,
                "shop_id": cls.bakery.id,
            }
        )

    def _engine(self, call):
        """Run ``call`` as the bakery's cashier; returns the refusal it raised."""
        with self.assertRaises(LoyaltyPlusRefusal) as caught, self.env.cr.savepoint():
            call()
        self.assertTrue(caught.exception.args[0])
        return caught.exception

    def _points(self, card, points):
        card.sudo()._apply_ledger(
            {"transaction_type": "points_adjusted", "points_delta": points, "note": "test", "shop_id": self.bakery.id}
        )

    def _cases(self):
        """``(code, setup, engine call, API call)``: the API call is ``(method, params)``."""
        cashier_card = self.as_user(self.card, self.cashier, self.bakery)
        number = self.card.card_number
        anna = {"staff_pin_id": self.pin_anna.id, "pin": "1234"}
        stamp = {"idempotency_key": "k", "card": number, **anna}

        def stamped_now():
            self.card.sudo()._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 1})

        def two_stamps_today():
            self.program.stamp_cooldown_minutes = 0
            stamped_now()
            stamped_now()

        def lock_anna():
            self.pin_anna.sudo().locked_until = fields.Datetime.now() + timedelta(minutes=30)

        def reward_ended():
            self._points(self.card, 200)
            self.reward.date_to = fields.Date.today() - timedelta(days=1)

        def earned_on_other_card():
            self.other_card.sudo()._earn(10, self.bakery, order_ref="ORDER-1")

        return [
            (
                "card_inactive",
                lambda: self.card.sudo().write({"active": False}),
                lambda: cashier_card.add_stamp(**anna),
                ("stamp", stamp),
            ),
            (
                "wrong_shop",
                lambda: self.bakery.write({"loyalty_plus_cross_location": False}),
                lambda: self.as_user(self.diff_card, self.cashier, self.bakery).add_stamp(**anna),
                ("stamp", dict(stamp, card=self.diff_card.card_number)),
            ),
            (
                "card_of_other_merchant",
                None,
                lambda: self.cafe_card.sudo()._stamp(self.bakery),
                ("stamp", dict(stamp, card=self.cafe_card.card_number)),
            ),
            (
                "card_not_found",
                None,
                lambda: self.env["loyalty_plus.card"]._get_by_query("nobody@example.com", self.bakery),
                ("stamp", dict(stamp, card="nobody@example.com")),
            ),
            (
                "not_supported",
                None,
                lambda: self.as_user(self.cafe_card, self.cafe_manager).earn_points(10),
                (
                    "earn",
                    {
                        "idempotency_key": "k",
                        "card": self.cafe_card.card_number,
                        "amount": 10,
                        "order_ref": "C-1",
                        "key": self.cafe_key,  # the café's own integration
                    },
                ),
            ),
            (
                "staff_pin_required",
                None,
                lambda: cashier_card.add_stamp(),
                ("stamp", {"idempotency_key": "k", "card": number}),
            ),
            (
                "staff_not_found",
                None,
                lambda: cashier_card.add_stamp(staff_pin_id=self.pin_cafe.id, pin="4567"),
                ("stamp", dict(stamp, staff_pin_id=self.pin_cafe.id, pin="4567")),
            ),
            (
                "wrong_pin",
                None,
                lambda: cashier_card.add_stamp(staff_pin_id=self.pin_anna.id, pin="0000"),
                ("stamp", dict(stamp, pin="0000")),
            ),
            ("pin_locked", lock_anna, lambda: cashier_card.add_stamp(**anna), ("stamp", stamp)),
            ("cooldown_active", stamped_now, lambda: cashier_card.add_stamp(**anna), ("stamp", stamp)),
            ("daily_limit", two_stamps_today, lambda: cashier_card.add_stamp(**anna), ("stamp", stamp)),
            (
                "below_minimum_purchase",
                None,
                lambda: cashier_card.earn_points(1.5, order_ref="SMALL"),
                ("earn", {"idempotency_key": "k", "card": number, "amount": 1.5, "order_ref": "SMALL"}),
            ),
            (
                "order_already_used",
                earned_on_other_card,
                lambda: cashier_card.earn_points(10, order_ref="ORDER-1"),
                ("earn", {"idempotency_key": "k", "card": number, "amount": 10, "order_ref": "ORDER-1"}),
            ),
            (
                "insufficient_points",
                None,
                lambda: cashier_card.redeem_reward(self.reward.id),
                ("redeem", {"idempotency_key": "k", "card": number, "reward_id": self.reward.id}),
            ),
            (
                "insufficient_stamps",
                None,
                lambda: cashier_card.redeem_stamps(**anna),
                ("redeem", dict(stamp, stamps=True)),
            ),
            (
                "reward_unavailable",
                reward_ended,
                lambda: cashier_card.redeem_reward(self.reward.id),
                ("redeem", {"idempotency_key": "k", "card": number, "reward_id": self.reward.id}),
            ),
            (
                "reward_not_found",
                None,
                lambda: cashier_card.redeem_reward(999999),
                ("redeem", {"idempotency_key": "k", "card": number, "reward_id": 999999}),
            ),
            (
                "void_refused",
                None,
                lambda: self.as_user(self.card.transaction_ids[:1], self.manager, self.bakery).void(),
                ("void", {"idempotency_key": "k", "transaction_id": self.card.transaction_ids[:1].id}),
            ),
        ]

    def test_each_code_through_engine_and_api(self):
        with mute_logger("odoo.http"):
            for code, setup, engine_call, (method, params) in self._cases():
                savepoint = self.env.cr.savepoint()
                try:
                    with self.subTest(code=code):
                        if setup:
                            setup()
                        self.env.flush_all()
                        refusal = self._engine(engine_call)
                        self.assertEqual(refusal.code, code, refusal.args[0])
                        status = HTTP_STATUS_BY_CODE.get(code, 422)
                        body = self.assertApiError(self.call(method, **params), status, code)
                        self.assertEqual(body["message"], refusal.args[0])
                finally:
                    savepoint.close(rollback=True)  # each case starts from the same data
                    self.env.invalidate_all()

    def test_rate_limited_through_json2_and_api(self):
        """The engine's own limit for people (a cashier's JSON-2 call) and the integration's limit
        both answer 429 ``rate_limited`` with ``Retry-After``."""
        self.env["ir.config_parameter"].sudo().set_param("loyalty_plus.rate_limit.stamp", "1")
        self.program.require_staff_pin = False
        self.program.stamp_cooldown_minutes = 0
        cashier_key = self.env["res.users.apikeys"].with_user(self.cashier).sudo()._generate(None, "till", None)
        with in_one_rate_window(), mute_logger("odoo.http"):
            status, body, _r = self.call("add_stamp", key=cashier_key, model="loyalty_plus.card", ids=[self.card.id])
            self.assertEqual(status, 200, body)
            outcome = self.call("add_stamp", key=cashier_key, model="loyalty_plus.card", ids=[self.card.id])
            self.assertApiError(outcome, 429, "rate_limited")
            self.assertTrue(int(outcome[2].headers["Retry-After"]) >= 1)
            kiosk = self._make_integration(self.manager, "Kiosk", self.bakery, rate_limit_per_minute=1)
            kiosk_key = kiosk._generate_api_key()
            self.assertEqual(self.call("lookup", key=kiosk_key, query=self.card.card_number)[0], 200)
            outcome = self.call("lookup", key=kiosk_key, query=self.card.card_number)
            self.assertApiError(outcome, 429, "rate_limited")
            self.assertTrue(int(outcome[2].headers["Retry-After"]) >= 1)
