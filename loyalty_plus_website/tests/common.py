import re
from pathlib import Path

from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user

AXE_PATH = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
CSRF_RE = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


class LoyaltyPlusWebsiteCase(HttpCase):
    """A bakery (merchant + two branches) with a hybrid program, and two portal customers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        eur = cls.env.ref("base.EUR")
        cls.bakery = Company.create(
            {
                "name": "Web Bakery",
                "currency_id": eur.id,
                "loyalty_plus_slug": "web-bakery",
                # every feature: the plans' limits have tests of their own
                "loyalty_plus_plan_id": cls.env.ref("loyalty_plus.plan_enterprise").id,
            }
        )
        cls.branch_esch = Company.create({"name": "Web Bakery Esch", "parent_id": cls.bakery.id})
        cls.branch_diff = Company.create({"name": "Web Bakery Differdange", "parent_id": cls.bakery.id})
        cls.program = cls.env["loyalty_plus.program"].create(
            {
                "name": "Web Bakery Rewards",
                "card_name": "Bakery Card",
                "company_id": cls.bakery.id,
                "program_type": "hybrid",
                "stamps_target": 5,
                "points_per_euro": 10,
                "minimum_redemption_points": 50,
                "welcome_bonus_points": 20,
                "require_staff_pin": False,
                "terms_text": "<p>Bakery terms fallback text.</p>",
            }
        )
        cls.silver = cls.env["loyalty_plus.tier"].create(
            {"name": "Silver", "program_id": cls.program.id, "threshold_points": 500, "multiplier": 1.5}
        )
        cls.croissant = cls.env["loyalty_plus.reward"].create(
            {"name": "Free croissant", "program_id": cls.program.id, "points_cost": 100, "discount_amount": 1.5}
        )
        cls.cake = cls.env["loyalty_plus.reward"].create(
            {"name": "Birthday cake", "program_id": cls.program.id, "points_cost": 5000, "discount_amount": 25}
        )
        portal_group = "base.group_portal"
        cls.portal_lea = new_test_user(
            cls.env,
            login="lp_web_lea",
            password="lp_web_lea",
            name="Lea Portal",
            email="lea.portal@example.com",
            groups=portal_group,
            company_id=cls.bakery.id,
            company_ids=[Command.set(cls.bakery.ids)],
        )
        cls.portal_tom = new_test_user(
            cls.env,
            login="lp_web_tom",
            password="lp_web_tom",
            name="Tom Portal",
            email="tom.portal@example.com",
            groups=portal_group,
            company_id=cls.bakery.id,
            company_ids=[Command.set(cls.bakery.ids)],
        )
        Card = cls.env["loyalty_plus.card"]
        cls.card_lea = Card.create(
            {"partner_id": cls.portal_lea.partner_id.id, "program_id": cls.program.id, "shop_id": cls.bakery.id}
        )
        cls.card_tom = Card.create(
            {"partner_id": cls.portal_tom.partner_id.id, "program_id": cls.program.id, "shop_id": cls.branch_esch.id}
        )
        # 12 purchases of 10 points + the welcome bonus: 13 ledger rows, two history pages
        for i in range(12):
            cls.card_lea._apply_ledger(
                {
                    "transaction_type": "points_earned",
                    "points_delta": 10,
                    "shop_id": cls.bakery.id,
                    "order_ref": f"LEA-{i}",
                    "amount": 1,
                }
            )
        cls.card_lea._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 2, "shop_id": cls.bakery.id})
        cls.card_tom._apply_ledger(
            {
                "transaction_type": "points_earned",
                "points_delta": 777,
                "shop_id": cls.branch_esch.id,
                "order_ref": "TOM-1",
                "amount": 77.7,
            }
        )

    def get_csrf_token(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, response.text[:500])
        match = CSRF_RE.search(response.text)
        self.assertTrue(match, "the page carries a CSRF token")
        return match.group(1)

    def install_axe(self):
        """Publish axe-core for the tours (served at /web/content/loyalty_plus_website.axe_core_test)."""
        if not AXE_PATH.is_file():
            self.fail(f"axe-core is missing at {AXE_PATH}: run scripts/setup.sh")
        attachment = self.env["ir.attachment"].create(
            {
                "name": "axe.min.js",
                "raw": AXE_PATH.read_bytes(),
                "mimetype": "text/javascript",
                "public": True,
            }
        )
        self.env["ir.model.data"].create(
            {
                "module": "loyalty_plus_website",
                "name": "axe_core_test",
                "model": "ir.attachment",
                "res_id": attachment.id,
                "noupdate": True,
            }
        )
        return attachment
