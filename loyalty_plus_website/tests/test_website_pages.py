from odoo.fields import Command
from odoo.tests import tagged

from .common import LoyaltyPlusWebsiteCase


@tagged("post_install", "-at_install")
class TestWebsitePages(LoyaltyPlusWebsiteCase):
    def test_platform_pages_and_pricing_facts(self):
        for url in ("/loyalty-plus", "/loyalty-plus/features", "/loyalty-plus/how-it-works"):
            with self.subTest(url=url):
                self.assertEqual(self.url_open(url).status_code, 200)
        pricing = self.url_open("/loyalty-plus/pricing").text
        for fact in (
            "€49",
            "Up to 500 members",
            "€149",
            "Up to 5,000 members",
            "Member tiers",
            "Analytics dashboard",
            "Unlimited members",
            "Full API access",
            "White-label options",
        ):
            self.assertIn(fact, pricing)

    def test_merchant_pages(self):
        for url in ("/loyalty-about", "/loyalty-terms", "/loyalty-privacy"):
            with self.subTest(url=url):
                self.assertEqual(self.url_open(url).status_code, 200)
        website = self.env["website"].get_current_website()
        website.company_id = self.bakery
        catalog = self.url_open("/rewards-catalog").text
        self.assertIn("Free croissant", catalog)
        self.assertIn("Birthday cake", catalog)
        self.assertIn('href="/loyalty/web-bakery/join"', catalog)

    def test_header_and_footer_order(self):
        website = self.env["website"].get_current_website()
        header = website.menu_id.child_id.filtered(
            lambda m: (
                m.url
                in (
                    "/loyalty-plus/pricing",
                    "/loyalty-plus/features",
                    "/loyalty-plus/how-it-works",
                    "/rewards-catalog",
                    "/loyalty-about",
                    "/loyalty-terms",
                    "/loyalty-privacy",
                    "/loyalty-plus",
                )
            )
        ).sorted("sequence")
        self.assertEqual(
            header.mapped("url"),
            ["/loyalty-plus/pricing", "/loyalty-plus/features", "/loyalty-plus/how-it-works", "/rewards-catalog"],
        )
        home = self.url_open("/").text
        footer = home[home.index('id="bottom"') :]
        positions = [
            footer.index(f'href="{url}"')
            for url in (
                "/loyalty-plus/pricing",
                "/loyalty-plus/features",
                "/loyalty-plus/how-it-works",
                "/loyalty-about",
                "/rewards-catalog",
                "/loyalty-terms",
                "/loyalty-privacy",
            )
        ]
        self.assertEqual(positions, sorted(positions))
        self.assertNotIn('href="/loyalty-plus"', footer)

    def test_pages_translated(self):
        for code in ("fr_FR", "de_DE", "lb_LU"):
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"].search([("name", "=", "loyalty_plus_website")])._update_translations(
            ["fr_FR", "de_DE", "lb_LU"]
        )
        website = self.env["website"].get_current_website()
        website.language_ids = [
            Command.link(lang.id) for lang in self.env["res.lang"].search([("code", "in", ["fr_FR", "de_DE", "lb_LU"])])
        ]
        expected = {"fr": "Jusqu'à 500 membres", "de": "Bis zu 500 Mitglieder", "lb": "Bis zu 500 Memberen"}
        for prefix, text in expected.items():
            with self.subTest(lang=prefix):
                page = self.url_open(f"/{prefix}/loyalty-plus/pricing")
                self.assertEqual(page.status_code, 200)
                self.assertIn(text, page.text.replace("&#39;", "'"))
