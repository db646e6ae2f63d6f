from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import HTTP_STATUS_BY_CODE
from odoo.addons.loyalty_plus.tests.common import LoyaltyPlusCase
from odoo.addons.loyalty_plus.tests.test_api_http import LoyaltyPlusApiHttpCase


def fill_members(program, count, prefix="member"):
    """``count`` new members of ``program``'s merchant in two batched inserts (customers, then
    their cards): the plan's limit is reached without ``count`` enrollments."""
    env = program.env
    partners = (
        env["res.partner"]
        .sudo()
        .with_context(tracking_disable=True, mail_create_nolog=True)
        .create([{"name": f"{prefix} {i}", "email": f"{prefix}.{i}@example.com"} for i in range(count)])
    )
    return (
        env["loyalty_plus.card"]
        .sudo()
        .with_context(tracking_disable=True)
        .create(
            [
                {"partner_id": partner.id, "program_id": program.id, "shop_id": program.company_id.id}
                for partner in partners
            ]
        )
    )


class PlanCase(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.starter = cls.env.ref("loyalty_plus.plan_starter")
        cls.growth = cls.env.ref("loyalty_plus.plan_growth")
        cls.enterprise = cls.env.ref("loyalty_plus.plan_enterprise")
        cls.cafe_cashier = new_test_user(
            cls.env,
            login="lp_plan_cafe_cashier",
            groups="base.group_user,loyalty_plus.group_loyalty_plus_cashier",
            company_id=cls.cafe.id,
            company_ids=[Command.set(cls.cafe.ids)],
        )

    def assertPlanRefusal(self, refusal, *names):
        self.assertEqual(refusal.code, "plan_limit")
        self.assertEqual(refusal.http_status, 403)
        for name in names:
            self.assertIn(name, refusal.args[0])


@tagged("post_install", "-at_install")
class TestPlans(PlanCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the café runs a stamp card in its one shop: what Starter includes
        cls.cafe.loyalty_plus_plan_id = cls.starter

    def test_plans_from_the_offering(self):
        """Seed 000: Starter €49 (500 members, 1 shop), Growth €149 (5,000, 10 shops, tiers, the
        dashboard), Enterprise custom (unlimited, API, white-label); new merchants start on Starter."""
        self.assertEqual(
            [(p.name, p.price_monthly, p.max_members, p.max_shops) for p in self.env["loyalty_plus.plan"].search([])],
            [("Starter", 49, 500, 1), ("Growth", 149, 5000, 10), ("Enterprise", 0, 0, 0)],
        )
        self.assertTrue(self.enterprise.price_on_request)
        self.assertEqual([p.feature_tiers for p in (self.starter, self.growth, self.enterprise)], [False, True, True])
        self.assertEqual([p.feature_api for p in (self.starter, self.growth, self.enterprise)], [False, False, True])
        new_merchant = self.env["res.company"].create({"name": "New Merchant"})
        self.assertEqual(new_merchant.loyalty_plus_plan_id, self.starter)

    def test_500th_member_accepted_501st_refused_at_the_till(self):
        """The real Starter limit: 499 members inserted, the 500th enrolls at the till, the 501st is
        refused with the plan's message; a member coming back still gets their card."""
        fill_members(self.cafe_program, 499)
        self.assertEqual(self.cafe._loyalty_plus_count_members(), 499)
        Card = self.as_user(self.env["loyalty_plus.card"], self.cafe_cashier)
        summary = Card.enroll("Member 500", "member500@example.com")
        self.assertTrue(summary["created"])
        self.assertEqual(self.cafe._loyalty_plus_count_members(), 500)
        refusal = self.refusal_of(lambda: Card.enroll("Member 501", "member501@example.com"))
        self.assertPlanRefusal(refusal, "Starter", "500", "Growth")
        self.assertEqual(refusal.data["feature"], "members")
        self.assertFalse(
            self.env["loyalty_plus.card"].search([("partner_id.email", "=", "member501@example.com")]),
            "no card for the refused customer",
        )
        again = Card.enroll("Member 500", "member500@example.com")
        self.assertFalse(again["created"])
        self.assertEqual(again["id"], summary["id"])

    def test_member_limit_counts_customers_not_cards(self):
        """With a card per shop, a member enrolling in a second shop is no new member."""
        tiny = self.starter.copy({"name": "Tiny", "max_members": 2, "max_shops": 0, "is_default": False})
        self.bakery.write({"loyalty_plus_plan_id": tiny.id, "loyalty_plus_cross_location": False})
        Card = self.env["loyalty_plus.card"]
        Card._enroll(self.partner2, self.bakery)  # with self.card: 2 members
        card, created = Card._enroll(self.partner2, self.branch_esch)
        self.assertTrue(created, "the same member, a card of another shop")
        newcomer = self.env["res.partner"].create({"name": "Newcomer", "email": "newcomer@example.com"})
        refusal = self.refusal_of(lambda: Card._enroll(newcomer, self.branch_esch))
        self.assertPlanRefusal(refusal, "Tiny", "Growth")
        # an archived card frees its place
        card.action_archive()
        self.env["loyalty_plus.card"].search([("partner_id", "=", self.partner2.id)]).action_archive()
        self.assertTrue(Card._enroll(newcomer, self.branch_esch)[1])

    def test_second_shop_refused_on_starter(self):
        Company = self.env["res.company"]
        refusal = self.refusal_of(lambda: Company.create({"name": "Café Gare", "parent_id": self.cafe.id}))
        self.assertPlanRefusal(refusal, "Starter", "Café Gare", "Growth")
        self.assertFalse(Company.search([("name", "=", "Café Gare")]))
        # nor by moving an existing company under the merchant
        other = Company.create({"name": "Café Kirchberg"})
        refusal = self.refusal_of(lambda: other.write({"parent_id": self.cafe.id}))
        self.assertPlanRefusal(refusal, "Starter")
        # Growth: up to 10 shops
        self.cafe.loyalty_plus_plan_id = self.growth
        branch = Company.create({"name": "Café Gare", "parent_id": self.cafe.id})
        self.assertEqual(branch.root_id, self.cafe)

    def test_tiers_refused_on_starter(self):
        Tier = self.as_user(self.env["loyalty_plus.tier"], self.cafe_manager)
        refusal = self.refusal_of(
            lambda: Tier.create({"name": "Gold", "program_id": self.cafe_program.id, "threshold_points": 100})
        )
        self.assertPlanRefusal(refusal, "Member tiers", "Starter", "Growth")
        self.assertEqual(refusal.data["upgrade"], "Growth")
        self.cafe.loyalty_plus_plan_id = self.growth
        self.assertTrue(Tier.create({"name": "Gold", "program_id": self.cafe_program.id, "threshold_points": 100}))

    def test_api_keys_refused_below_enterprise(self):
        Integration = self.as_user(self.env["loyalty_plus.integration"], self.manager)
        self.bakery.loyalty_plus_plan_id = self.enterprise
        integration = Integration.create({"name": "Web shop", "shop_ids": [Command.set(self.bakery.ids)]})
        self.assertTrue(integration._generate_api_key())
        for plan in (self.starter, self.growth):
            self.bakery.loyalty_plus_plan_id = plan
            refusal = self.refusal_of(
                lambda: Integration.create({"name": "Kiosk", "shop_ids": [Command.set(self.bakery.ids)]})
            )
            self.assertPlanRefusal(refusal, "API", plan.name, "Enterprise")
            refusal = self.refusal_of(integration._generate_api_key)
            self.assertPlanRefusal(refusal, "Enterprise")
        self.assertEqual(len(integration.user_id.sudo().api_key_ids), 1, "the key given on Enterprise stays")

    def test_feature_check_for_the_reports(self):
        """The door the reports and the dashboard ask (from any shop of the merchant)."""
        refusal = self.refusal_of(lambda: self.cafe._loyalty_plus_check_plan_feature("analytics"))
        self.assertPlanRefusal(refusal, "Analytics dashboard", "Starter", "Growth")
        self.assertFalse(self.cafe._loyalty_plus_has_plan_feature("analytics"))
        self.bakery.loyalty_plus_plan_id = self.growth
        self.branch_esch._loyalty_plus_check_plan_feature("analytics")
        self.assertTrue(self.branch_esch._loyalty_plus_has_plan_feature("analytics"))

    def test_advanced_reports_refused_without_analytics(self):
        """The Reporting menu opens the advanced reports through the plan's check."""
        action = self.env.ref("loyalty_plus.loyalty_plus_report_cohort_action_server")
        refusal = self.refusal_of(self.as_user(action, self.cafe_manager).run)
        self.assertPlanRefusal(refusal, "Analytics dashboard", "Starter", "Growth")
        self.bakery.loyalty_plus_plan_id = self.growth
        window = self.as_user(action, self.manager, self.branch_esch).run()
        self.assertEqual(window["res_model"], "loyalty_plus.report.cohort")

    def test_downgrade_keeps_data_and_stops_growth(self):
        """From Enterprise to Starter: shops, tiers, cards, balances, integration and its key all
        stay and keep working; only new shops, tiers, keys and members beyond the limit are refused."""
        integration = self.as_user(self.env["loyalty_plus.integration"], self.manager).create(
            {"name": "Web shop", "shop_ids": [Command.set(self.bakery.ids)]}
        )
        integration._generate_api_key()
        self.card._earn(60, self.branch_esch)  # 600 points: Silver
        self.assertEqual(self.card.tier_id, self.silver)
        before = {
            "shops": self.env["res.company"].search_count([("id", "child_of", self.bakery.id)]),
            "tiers": self.program.tier_ids,
            "cards": self.program.card_ids,
            "points": self.card.points_balance,
            "keys": integration.user_id.sudo().api_key_ids,
        }
        self.bakery.loyalty_plus_plan_id = self.starter
        self.env.invalidate_all()
        self.assertEqual(self.env["res.company"].search_count([("id", "child_of", self.bakery.id)]), before["shops"])
        self.assertEqual(self.program.tier_ids, before["tiers"])
        self.assertEqual(self.program.card_ids, before["cards"])
        self.assertEqual(self.card.points_balance, before["points"])
        self.assertEqual(self.card.tier_id, self.silver, "the tier reached stays")
        self.assertEqual(integration.user_id.sudo().api_key_ids, before["keys"])
        # the existing shops and cards keep working, Silver's multiplier too
        self.card._earn(10, self.branch_diff)
        self.assertEqual(self.card.points_balance, before["points"] + 150)
        self.assertTrue(self.env["loyalty_plus.card"]._enroll(self.partner2, self.branch_esch)[1], "within 500")
        # growth stops
        for call in (
            lambda: self.env["res.company"].create({"name": "Bakery Kirchberg", "parent_id": self.bakery.id}),
            lambda: self.env["loyalty_plus.tier"].create(
                {"name": "Gold", "program_id": self.program.id, "threshold_points": 2000}
            ),
            integration._generate_api_key,
        ):
            self.assertPlanRefusal(self.refusal_of(call))
        # no card moves up into a tier on a plan without tiers
        gold = self.env["loyalty_plus.tier"].sudo()
        self.bakery.loyalty_plus_plan_id = self.enterprise
        gold = gold.create({"name": "Gold", "program_id": self.program.id, "threshold_points": 800})
        self.bakery.loyalty_plus_plan_id = self.starter
        self.card._earn(30, self.bakery)
        self.assertEqual(self.card.tier_id, self.silver, "not moved up to Gold on Starter")
        self.env["loyalty_plus.card"]._cron_review_tiers()
        self.assertEqual(self.card.tier_id, self.silver, "nor by the daily review")
        self.bakery.loyalty_plus_plan_id = self.enterprise
        self.card._earn(3, self.bakery)
        self.assertEqual(self.card.tier_id, gold, "moved up again once the plan includes tiers")

    def test_plan_set_by_the_administrator_only(self):
        manager_cafe = self.as_user(self.cafe, self.cafe_manager)
        self.assertEqual(manager_cafe.loyalty_plus_plan_id, self.starter, "the merchant sees its plan")
        with self.assertRaises(AccessError):
            manager_cafe.sudo(False).write({"loyalty_plus_plan_id": self.enterprise.id})
        merchant_settings = self.as_user(self.env["loyalty_plus.merchant.settings"], self.cafe_manager).create({})
        self.assertEqual(merchant_settings.plan_id, self.starter, "read-only in the manager's Loyalty+ settings")
        merchant_settings.action_save()
        self.assertEqual(self.cafe.loyalty_plus_plan_id, self.starter, "saving the settings keeps the plan")
        settings = self.env["res.config.settings"].with_company(self.cafe).create({})
        self.assertEqual(settings.loyalty_plus_plan_id, self.starter)
        self.assertTrue(settings._fields["loyalty_plus_plan_id"].readonly, "read-only in the merchant's settings")
        admin = new_test_user(
            self.env, login="lp_plan_admin", groups="base.group_system,loyalty_plus.group_loyalty_plus_admin"
        )
        self.cafe.with_user(admin).write({"loyalty_plus_plan_id": self.growth.id})
        self.assertEqual(self.cafe.loyalty_plus_plan_id, self.growth)

    def test_pricing_lines_and_prices(self):
        self.assertEqual(self.starter._get_price_display(), "€49")
        self.assertEqual(self.growth._get_price_display(), "€149")
        self.assertEqual(self.enterprise._get_price_display(), "Custom")
        self.assertEqual(
            self.starter._get_pricing_lines(),
            ["Up to 500 members", "1 shop", "Points system", "Standard rewards", "Email support"],
        )
        self.assertEqual(
            self.growth._get_pricing_lines(),
            [
                "Everything in Starter, plus:",
                "Up to 5,000 members",
                "Up to 10 shops",
                "Advanced points rules",
                "Member tiers",
                "Custom rewards",
                "Analytics dashboard",
                "Priority support",
            ],
        )
        self.assertIn("Full API access", self.enterprise._get_pricing_lines())
        self.assertIn("Unlimited members", self.enterprise._get_pricing_lines())


@tagged("post_install", "-at_install")
class TestPlanLimitsHttp(LoyaltyPlusApiHttpCase, PlanCase):
    """The 501st member refused with the plan's message through the till's RPC and the API."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the café had its integration on Enterprise: the downgrade keeps it (and stops growth)
        cls.cafe.loyalty_plus_plan_id = cls.starter
        fill_members(cls.cafe_program, 500 - cls.cafe._loyalty_plus_count_members())

    def test_501st_member_refused_by_the_till_rpc(self):
        self.authenticate("lp_plan_cafe_cashier", "lp_plan_cafe_cashier")
        response = self.url_open(
            "/web/dataset/call_kw/loyalty_plus.card/enroll",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {
                    "model": "loyalty_plus.card",
                    "method": "enroll",
                    "args": ["Member 501", "member501@example.com"],
                    "kwargs": {"shop_id": self.cafe.id},
                },
            },
        )
        error = response.json()["error"]["data"]
        self.assertEqual(error["name"], "odoo.addons.loyalty_plus.exceptions.LoyaltyPlusRefusal")
        self.assertEqual(error["context"]["code"], "plan_limit")
        self.assertIn("Starter", error["message"])
        self.assertIn("Growth", error["message"])

    def test_501st_member_refused_by_the_api(self):
        with mute_logger("odoo.http"):
            body = self.assertApiError(
                self.call(
                    "enroll", key=self.cafe_key, idempotency_key="plan-501", name="Member 501", email="m501@example.com"
                ),
                HTTP_STATUS_BY_CODE["plan_limit"],
                "plan_limit",
            )
        self.assertEqual(HTTP_STATUS_BY_CODE["plan_limit"], 403)
        self.assertIn("Starter", body["message"])
        self.assertEqual(body["context"]["upgrade"], "Growth")
        # a member of the café still enrolls (their existing card) through the API
        status, body, _r = self.call(
            "enroll", key=self.cafe_key, idempotency_key="plan-again", name="Tom", email=self.partner2.email
        )
        self.assertEqual(status, 200, body)
        self.assertFalse(body["created"])
