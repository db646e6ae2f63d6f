import html

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

    def _activate_website_languages(self):
        for code in ("fr_FR", "de_DE", "lb_LU"):
            self.env["res.lang"]._activate_lang(code)
        # the plans and their lines come from loyalty_plus
        self.env["ir.module.module"].search(
            [("name", "in", ["loyalty_plus", "loyalty_plus_website"])]
        )._update_translations(["fr_FR", "de_DE", "lb_LU"])
        website = self.env["website"].get_current_website()
        website.language_ids = [
            Command.link(lang.id) for lang in self.env["res.lang"].search([("code", "in", ["fr_FR", "de_DE", "lb_LU"])])
        ]

    def test_pages_translated(self):
        self._activate_website_languages()
        expected = {"fr": "Jusqu'à 500 membres", "de": "Bis zu 500 Mitglieder", "lb": "Bis zu 500 Memberen"}
        for prefix, text in expected.items():
            with self.subTest(lang=prefix):
                page = self.url_open(f"/{prefix}/loyalty-plus/pricing")
                self.assertEqual(page.status_code, 200)
                self.assertIn(text, page.text.replace("&#39;", "'"))

    def test_card_labels_translated(self):
        """The texts made of a value (the QR code's alt text, the progress bars' labels) are
        translated like the rest of the page, on the welcome page, the portal and the printed card."""
        self._activate_website_languages()
        number = self.card_lea._get_formatted_number()
        expected = {
            "fr_FR": ("fr", "Code QR de la carte", "Tampons : 2 sur 5", "Progression vers Silver"),
            "de_DE": ("de", "QR-Code der Karte", "Stempel: 2 von 5", "Fortschritt bis Silver"),
            "lb_LU": ("lb", "QR-Code vun der Kaart", "Stempelen: 2 vu 5", "Fortschrëtt bis Silver"),
        }
        # the welcome page of a new member
        token = self.get_csrf_token("/loyalty/web-bakery/join")
        response = self.url_open(
            "/loyalty/web-bakery/join",
            data={
                "csrf_token": token,
                "first_name": "Mia",
                "last_name": "Welter",
                "email": "mia.welter@example.com",
                "phone": "+352 621 555 222",
                "lang": "fr_FR",
                "terms": "1",
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, response.text[:500])
        new_card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "mia.welter@example.com")])
        for prefix, qr, _stamps, _tier in expected.values():
            with self.subTest(page="welcome", lang=prefix):
                welcome = html.unescape(self.url_open(f"/{prefix}/loyalty/web-bakery/welcome").text)
                self.assertIn(f'alt="{qr} {new_card._get_formatted_number()}"', welcome)
        # the customer's portal
        self.authenticate("lp_web_lea", "lp_web_lea")
        for prefix, qr, stamps, tier in expected.values():
            with self.subTest(page="portal", lang=prefix):
                card_page = html.unescape(self.url_open(f"/{prefix}/my/loyalty/{self.card_lea.id}").text)
                self.assertIn(f'alt="{qr} {number}"', card_page)
                self.assertIn(f'aria-label="{stamps}"', card_page)
                self.assertIn(f'aria-label="{tier}"', card_page)
                listing = html.unescape(self.url_open(f"/{prefix}/my/loyalty").text)
                self.assertIn(f'aria-label="{stamps}"', listing)
                self.assertIn(f'aria-label="{tier}"', listing)
        # the printed card speaks its customer's language
        for code, (_prefix, qr, _stamps, _tier) in expected.items():
            with self.subTest(page="print", lang=code):
                self.portal_lea.partner_id.lang = code
                printed = self.url_open(f"/my/loyalty/{self.card_lea.id}/print?report_type=html")
                self.assertEqual(printed.status_code, 200)
                self.assertIn(f'alt="{qr} {number}"', html.unescape(printed.text))
