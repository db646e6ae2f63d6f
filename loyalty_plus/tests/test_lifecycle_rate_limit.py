import json
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.loyalty_plus.models.loyalty_plus_rate_limit import RATE_LIMITS


@tagged("post_install", "-at_install")
class TestLifecycleRateLimit(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.merchant = cls.env["res.company"].create({"name": "Rate Bakery", "currency_id": cls.env.ref("base.EUR").id})
        cls.program = cls.env["loyalty_plus.program"].create(
            {"name": "Rate Rewards", "company_id": cls.merchant.id, "program_type": "points", "points_per_euro": 1}
        )
        cls.partner = cls.env["res.partner"].create({"name": "Rita", "email": "rita@example.com"})
        cls.card = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.partner.id, "program_id": cls.program.id, "shop_id": cls.merchant.id}
        )
        cls.pin = cls.env["loyalty_plus.staff_pin"].create(
            {"name": "Rob", "program_id": cls.program.id, "shop_id": cls.merchant.id, "new_pin": "1234"}
        )
        cls.user = new_test_user(
            cls.env,
            "lp_rate_manager",
            groups="base.group_user,loyalty_plus.group_loyalty_plus_manager",
            company_id=cls.merchant.id,
            company_ids=[cls.merchant.id],
            context={"lang": "en_US"},
        )
        key = (
            cls.user.with_user(cls.user)
            .env["res.users.apikeys"]
            ._generate(scope="rpc", name="rate", expiration_date=datetime.now() + timedelta(days=1))
        )
        cls.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "X-Odoo-Database": cls.env.cr.dbname,
        }

    def call(self, model, method, ids, **kwargs):
        return self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps({"ids": ids, "context": {"allowed_company_ids": [self.merchant.id]}, **kwargs}),
            headers=self.headers,
        )

    def test_adjust_capped_per_user_with_429(self):
        self.env["ir.config_parameter"].set_param("loyalty_plus.rate_limit.adjust", 3)
        statuses = [
            self.call("loyalty_plus.card", "adjust_points", self.card.ids, points=1, reason="x").status_code
            for _i in range(3)
        ]
        self.assertEqual(statuses, [200, 200, 200])
        refused = self.call("loyalty_plus.card", "adjust_points", self.card.ids, points=1, reason="x")
        self.assertEqual(refused.status_code, 429)
        self.assertIn("Too many requests", refused.json()["message"])
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 3, "the refused call changed nothing")
        # other entry points have counters of their own
        earned = self.call("loyalty_plus.card", "earn_points", self.card.ids, amount=10)
        self.assertEqual(earned.status_code, 200, earned.text)

    def test_unlock_default_cap_counts_failed_calls(self):
        self.assertEqual(RATE_LIMITS["unlock"], 10)
        for _i in range(10):
            self.assertEqual(self.call("loyalty_plus.staff_pin", "action_unlock", self.pin.ids).status_code, 200)
        self.assertEqual(self.call("loyalty_plus.staff_pin", "action_unlock", self.pin.ids).status_code, 429)

    def test_per_ip_cap(self):
        # the IP cap is five times the user cap: a second user on the same IP runs into it
        self.env["ir.config_parameter"].set_param("loyalty_plus.rate_limit.earn", 1)
        window = datetime.now().replace(second=0, microsecond=0)
        for start in (window, window + timedelta(minutes=1)):
            self.env["loyalty_plus.rate_limit"].create({"key": "earn:ip:127.0.0.1", "window_start": start, "hits": 5})
        refused = self.call("loyalty_plus.card", "earn_points", self.card.ids, amount=10)
        self.assertEqual(refused.status_code, 429)

    def test_server_side_calls_are_not_limited(self):
        self.env["ir.config_parameter"].set_param("loyalty_plus.rate_limit.earn", 1)
        card = self.card.with_user(self.user).with_company(self.merchant)
        card.earn_points(10, order_ref="S1")
        card.earn_points(10, order_ref="S2")
        self.assertEqual(card.points_balance, 20)
