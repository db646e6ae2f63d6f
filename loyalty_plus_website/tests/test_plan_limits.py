from odoo.tests import tagged

from odoo.addons.loyalty_plus.tests.test_plans import fill_members

from .common import LoyaltyPlusWebsiteCase

JOIN_URL = "/loyalty/web-bakery/join"


@tagged("post_install", "-at_install")
class TestPlanLimitsWebsite(LoyaltyPlusWebsiteCase):
    """The website's enrollment asks the engine's plan limit like the till and the API."""

    def _join(self, email):
        data = {
            "first_name": "Nora",
            "last_name": "Schmit",
            "email": email,
            "phone": "+352 621 555 111",
            "birthday": "1990-04-12",
            "lang": "en_US",
            "terms": "1",
            "csrf_token": self.get_csrf_token(JOIN_URL),
        }
        return self.url_open(JOIN_URL, data=data, allow_redirects=False)

    def test_500th_member_joins_501st_refused(self):
        # a downgrade to Starter keeps the bakery's three shops; the members stop at 500
        self.bakery.loyalty_plus_plan_id = self.env.ref("loyalty_plus.plan_starter")
        bonus, self.program.welcome_bonus_points = self.program.welcome_bonus_points, 0
        fill_members(self.program, 499 - self.bakery._loyalty_plus_count_members())
        self.program.welcome_bonus_points = bonus
        self.assertEqual(self.bakery._loyalty_plus_count_members(), 499)

        response = self._join("member500@example.com")
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(self.bakery._loyalty_plus_count_members(), 500)

        response = self._join("member501@example.com")
        self.assertEqual(response.status_code, 400)
        self.assertIn("500 members of its Starter plan", response.text)
        self.assertFalse(self.env["res.partner"].search([("email", "=", "member501@example.com")]))
        self.assertEqual(self.bakery._loyalty_plus_count_members(), 500)

    def test_pricing_page_lists_the_plans(self):
        Plan = self.env["loyalty_plus.plan"]
        Plan.search([("name", "=", "Growth")]).price_monthly = 159
        Plan.create({"name": "Boutique", "sequence": 15, "price_monthly": 89, "max_members": 1500, "max_shops": 2})
        html = self.url_open("/loyalty-plus/pricing").text
        page = html[html.index("o_loyalty_plus_plan") :]
        for fact in (
            "Starter",
            "€49",
            "Boutique",
            "€89",
            "Up to 1,500 members",
            "Everything in Boutique, plus:",
            "€159",
        ):
            self.assertIn(fact, page)
        self.assertNotIn("€149", page)
        self.assertLess(page.index("Starter"), page.index("Boutique"))
        self.assertLess(page.index("Boutique"), page.index("Growth"))
