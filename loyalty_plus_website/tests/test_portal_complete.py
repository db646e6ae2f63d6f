import html

from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import format_date

from .common import LoyaltyPlusWebsiteCase

FRENCH_NAMES = {
    "program": ("Web Bakery Rewards", "Fidélité Web Bakery"),
    "card": ("Bakery Card", "Carte de la boulangerie"),
    "stamp_reward": ("Free item", "Viennoiserie offerte"),
    "silver": ("Silver", "Argent"),
    "croissant": ("Free croissant", "Croissant offert"),
    "cake": ("Birthday cake", "Gâteau d'anniversaire"),
}


class LoyaltyPlusPortalCase(LoyaltyPlusWebsiteCase):
    """Zoé's card: visits at two shops, an expiry, vouchers to use and used."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.points_expiration_days = 365
        cls.portal_zoe = new_test_user(
            cls.env,
            login="lp_web_zoe",
            password="lp_web_zoe",
            name="Zoé Portal",
            email="zoe.portal@example.com",
            groups="base.group_portal",
            company_id=cls.bakery.id,
            company_ids=[Command.set(cls.bakery.ids)],
        )
        cls.card_zoe = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.portal_zoe.partner_id.id, "program_id": cls.program.id, "shop_id": cls.bakery.id}
        )
        apply = cls.card_zoe._apply_ledger
        # one visit: the order's points and the stamp given while it was rung (no order reference)
        apply({"transaction_type": "points_earned", "points_delta": 50, "shop_id": cls.bakery.id, "order_ref": "ZOE-1"})
        apply({"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": cls.bakery.id})
        # another order: another visit, where a voucher was bought with points
        cls.voucher_tx = apply(
            {
                "transaction_type": "points_redeemed",
                "points_delta": -60,
                "shop_id": cls.bakery.id,
                "order_ref": "ZOE-2",
                "reward_id": cls.croissant.id,
            }
        )
        # another shop: another visit
        apply({"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": cls.branch_esch.id})
        # written without the customer: a row of its own
        apply({"transaction_type": "points_adjusted", "points_delta": 40, "note": "Goodwill"})
        Redemption = cls.env["loyalty_plus.redemption"]
        cls.voucher_to_use = Redemption._issue(cls.voucher_tx, "Free croissant", reward=cls.croissant)
        cls.voucher_used = Redemption._issue(cls.voucher_tx, "Free croissant", reward=cls.croissant)
        Redemption.consume(cls.voucher_used.code, used_ref="ZOE-3")
        cls.voucher_cancelled = Redemption._issue(cls.voucher_tx, "Free croissant", reward=cls.croissant)
        cls.voucher_cancelled._cancel()

    @classmethod
    def _activate_french(cls):
        cls.env["res.lang"]._activate_lang("fr_FR")
        website = cls.env["website"].get_current_website()
        website.language_ids = [Command.link(cls.env.ref("base.lang_fr").id)]
        cls.env["ir.module.module"].search([("name", "=", "loyalty_plus_website")])._update_translations(["fr_FR"])
        records = {
            "program": (cls.program, "name"),
            "card": (cls.program, "card_name"),
            "stamp_reward": (cls.program, "stamps_reward_description"),
            "silver": (cls.silver, "name"),
            "croissant": (cls.croissant, "name"),
            "cake": (cls.cake, "name"),
        }
        for key, (record, field) in records.items():
            english, french = FRENCH_NAMES[key]
            record.update_field_translations(field, {"en_US": english, "fr_FR": french})


@tagged("post_install", "-at_install")
class TestPortalComplete(LoyaltyPlusPortalCase):
    def test_one_row_per_visit(self):
        Transaction = self.env["loyalty_plus.transaction"]
        visits = Transaction._get_visits(self.card_zoe, 10)
        self.assertEqual(Transaction._count_visits(self.card_zoe), 4)
        self.assertEqual(
            [sorted(visit.mapped("transaction_type")) for visit in visits],
            [
                ["points_adjusted"],
                ["stamp_earned"],
                ["points_redeemed"],
                sorted(["welcome_bonus", "points_earned", "stamp_earned"]),
            ],
        )
        self.assertEqual(visits[1].shop_id, self.branch_esch)
        self.assertEqual([len(visit) for visit in Transaction._get_visits(self.card_zoe, 2, offset=2)], [1, 3])
        self.authenticate("lp_web_zoe", "lp_web_zoe")
        page = self.url_open(f"/my/loyalty/{self.card_zoe.id}").text
        self.assertEqual(page.count('o_loyalty_plus_visit"'), 4)
        # the first visit, in one row: welcome bonus 20 + 50 points, one stamp
        first_visit = page[page.rindex('o_loyalty_plus_visit"') :]
        self.assertIn("+70</span> points", first_visit)
        self.assertIn("+1</span> stamps", first_visit)
        self.assertIn("Web Bakery Esch", page)

    def test_vouchers_to_use_and_used(self):
        self.authenticate("lp_web_zoe", "lp_web_zoe")
        page = self.url_open(f"/my/loyalty/{self.card_zoe.id}").text
        vouchers = page[page.index("o_loyalty_plus_vouchers") :]
        self.assertLess(vouchers.index(self.voucher_to_use.code), vouchers.index(self.voucher_used.code))
        self.assertIn("o_loyalty_plus_voucher_issued", page)
        self.assertIn("o_loyalty_plus_voucher_used", page)
        self.assertNotIn(self.voucher_cancelled.code, page)
        self.assertIn(format_date(self.env, self.voucher_used.used_date), vouchers)
        # another customer's vouchers stay theirs
        self.authenticate("lp_web_lea", "lp_web_lea")
        self.assertNotIn(self.voucher_to_use.code, self.url_open(f"/my/loyalty/{self.card_lea.id}").text)

    def test_points_expiry_date_and_stamp_reward(self):
        self.program.stamps_reward_description = "Free pastry"
        expiry = self.card_zoe.points_expiration_date
        self.assertTrue(expiry)
        self.authenticate("lp_web_zoe", "lp_web_zoe")
        for url in (f"/my/loyalty/{self.card_zoe.id}", "/my/loyalty"):
            with self.subTest(url=url):
                page = html.unescape(self.url_open(url).text)
                self.assertIn("These points expire on", page)
                self.assertIn(format_date(self.env, expiry), page)
                # 2 stamps of 5
                self.assertIn('Stamps to go before <strong>Free pastry</strong>: <span class="fw-bold">3</span>', page)
        # no expiry rule, no date
        self.program.points_expiration_days = 0
        self.assertNotIn("These points expire on", self.url_open(f"/my/loyalty/{self.card_zoe.id}").text)

    def test_names_in_the_customer_language(self):
        self._activate_french()
        self.authenticate("lp_web_zoe", "lp_web_zoe")
        card_page = html.unescape(self.url_open(f"/fr/my/loyalty/{self.card_zoe.id}").text)
        for key in ("card", "stamp_reward", "croissant", "cake"):
            with self.subTest(name=key):
                self.assertIn(FRENCH_NAMES[key][1], card_page)
        self.assertIn("Argent", card_page, "the next tier in French")
        if "Free croissant" in card_page:
            at = card_page.index("Free croissant")
            self.fail(f"voucher and reward names in French too: {card_page[at - 300 : at + 100]}")


@tagged("post_install", "-at_install")
class TestPortalTours(LoyaltyPlusPortalCase):
    browser_size = "375x812"

    def setUp(self):
        super().setUp()
        self.install_axe()

    def test_portal_in_french_on_a_phone(self):
        self._activate_french()
        self.portal_zoe.partner_id.lang = "fr_FR"
        self.start_tour(
            f"/fr/my/loyalty/{self.card_zoe.id}", "loyalty_plus_website_portal_fr_phone", login="lp_web_zoe"
        )

    def test_spend_bank_shown(self):
        """A "stamps per amount spent" rule: what was spent counts towards the next stamp, and the
        portal says what is left to spend."""
        self.program.program_type = "hybrid"
        self.env["loyalty_plus.earning_rule"].create(
            {
                "program_id": self.program.id,
                "name": "1 stamp per 50",
                "rule_type": "stamps_spend",
                "spend_step": 50.0,
            }
        )
        self.program.earning_rule_ids.filtered(lambda r: r.rule_type == "stamps_visit").active = False
        self.program.stamp_cooldown_minutes = 0
        line = {"product_id": False, "qty": 1, "price_incl": 32.0, "price_excl": 32.0}
        self.card_zoe._earn_order([line], self.bakery, order_ref="ZOE-BANK")
        self.assertEqual(self.card_zoe.stamp_bank, 32.0)
        self.assertEqual(self.card_zoe.stamp_bank_to_next, 18.0)
        self.authenticate("lp_web_zoe", "lp_web_zoe")
        page = self.url_open(f"/my/loyalty/{self.card_zoe.id}").text
        bank = page[page.index("o_loyalty_plus_stamp_bank") :]
        self.assertIn("18.00", bank[: bank.index("</p>")])
        self.assertIn("more to spend for your next stamp", bank)
