from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestHealthEndpoint(LoyaltyPlusCase, HttpCase):
    """/loyalty_plus/health for outside monitors, with Odoo API keys."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_user = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Monitor",
                    "login": "lp_monitor",
                    "group_ids": [
                        Command.set(
                            [cls.env.ref("base.group_user").id, cls.env.ref("loyalty_plus.group_loyalty_plus_admin").id]
                        )
                    ],
                }
            )
        )
        Keys = cls.env["res.users.apikeys"]
        cls.admin_key = Keys.with_user(cls.admin_user).sudo()._generate(None, "monitor", None)
        cls.bakery_key = Keys.with_user(cls.manager).sudo()._generate(None, "bakery monitor", None)
        cls.cafe_key = Keys.with_user(cls.cafe_manager).sudo()._generate(None, "cafe monitor", None)
        cls.cashier_key = Keys.with_user(cls.cashier).sudo()._generate(None, "cashier", None)
        cls.env["loyalty_plus.rate_limit.refusal"].create(
            {"company_id": cls.branch_esch.id, "entry_point": "stamp", "window_start": cls.cr.now(), "count": 7}
        )
        cls.env["loyalty_plus.rate_limit.refusal"].create(
            {"company_id": cls.cafe.id, "entry_point": "api:lookup", "window_start": cls.cr.now(), "count": 3}
        )

    def get(self, key=None, query="", headers=None):
        headers = dict(headers or {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.url_open(f"/loyalty_plus/health{query}", headers=headers, timeout=30)

    def test_401_without_a_valid_key(self):
        self.assertEqual(self.get().status_code, 401)
        self.assertEqual(self.get("not-a-key").status_code, 401)

    def test_403_for_a_cashier(self):
        response = self.get(self.cashier_key)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"]["code"], "access_denied")

    def test_admin_sees_every_merchant_and_the_jobs(self):
        response = self.get(self.admin_key)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        body = response.json()
        self.assertIn(body["status"], ("green", "amber", "red"))
        merchants = {check["merchant"]["name"] for check in body["checks"] if check["merchant"]}
        self.assertLessEqual({"Test Bakery", "Test Café"}, merchants)
        expiry = self.env.ref("loyalty_plus.ir_cron_expire_points")
        cron_checks = {check["key"]: check for check in body["checks"] if check["category"] == "cron"}
        self.assertIn(f"cron:{expiry.id}", cron_checks)
        self.assertIn("cron_last_duration_seconds", cron_checks[f"cron:{expiry.id}"]["metrics"])

    def test_merchant_key_sees_only_its_merchant(self):
        body = self.get(self.bakery_key).json()
        self.assertTrue(body["checks"])
        self.assertEqual({check["merchant"]["name"] for check in body["checks"]}, {"Test Bakery"})
        self.assertNotIn("cron", {check["category"] for check in body["checks"]}, "the platform's jobs are not its own")
        rate = next(check for check in body["checks"] if check["key"] == "rate_limit")
        self.assertEqual(rate["value"], 7)
        self.assertEqual(rate["per_shop"], {"Test Bakery Esch": {"stamp": 7}})
        cafe = self.get(self.cafe_key).json()
        self.assertEqual({check["merchant"]["name"] for check in cafe["checks"]}, {"Test Café"})
        text = self.get(self.cafe_key, "?format=prometheus").text
        self.assertNotIn("Bakery", text)
        self.assertIn(
            'loyalty_plus_rate_limit_refusals_peak_per_minute{check="rate_limit",category="rate_limit",'
            'merchant="Test Café"} 3.0',
            text,
        )

    def test_prometheus_text_format(self):
        for query, headers in (
            ("?format=prometheus", {}),
            ("", {"Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}),
        ):
            response = self.get(self.admin_key, query, headers)
            self.assertEqual(response.status_code, 200)
            self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            lines = response.text.splitlines()
            self.assertIn("# TYPE loyalty_plus_health_state gauge", lines)
            expiry = self.env.ref("loyalty_plus.ir_cron_expire_points")
            self.assertTrue(
                any(
                    line.startswith(f'loyalty_plus_cron_hours_since_success{{check="cron:{expiry.id}"')
                    for line in lines
                )
            )
            samples = [line for line in lines if line and not line.startswith("#")]
            for sample in samples:
                name_labels, value = sample.rsplit(" ", 1)
                float(value)
                self.assertRegex(name_labels, r'^loyalty_plus_[a-z_]+\{([a-z_]+="[^"]*",?)*\}$')
            # each metric's samples follow its TYPE line
            names = [line.split("{")[0] for line in samples]
            self.assertEqual(len(set(names)), len([line for line in lines if line.startswith("# TYPE")]))
