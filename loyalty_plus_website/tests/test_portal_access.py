import json

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LoyaltyPlusWebsiteCase


@tagged("post_install", "-at_install")
class TestPortalAccess(LoyaltyPlusWebsiteCase):
    def test_portal_lists_only_own_cards(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        page = self.url_open("/my/loyalty")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.card_lea._get_formatted_number(), page.text)
        self.assertNotIn(self.card_tom._get_formatted_number(), page.text)
        self.assertIn("140", page.text, "balance: welcome bonus 20 + 12 x 10")

    @mute_logger("odoo.http")
    def test_other_customer_card_refused_by_url(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        for url in (
            f"/my/loyalty/{self.card_tom.id}",
            f"/my/loyalty/{self.card_tom.id}/page/2",
            f"/my/loyalty/{self.card_tom.id}/print",
            f"/my/loyalty/{self.card_tom.id}/print?report_type=html",
            "/my/loyalty/999999999",
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn(self.card_tom.card_number, response.text)
                # Tom's balance as a number of its own (tokens and asset hashes may contain "777")
                self.assertNotRegex(response.text, r"\b777\b")

    def test_other_customer_card_refused_by_id(self):
        Card = self.env["loyalty_plus.card"].with_user(self.portal_lea)
        self.assertEqual(Card.search([]), self.card_lea)
        self.assertEqual(self.card_lea.with_user(self.portal_lea).points_balance, 140)
        with self.assertRaises(AccessError):
            self.card_tom.with_user(self.portal_lea).read(["card_number"])
        with self.assertRaises(AccessError):
            self.card_lea.with_user(self.portal_lea).write({"marketing_consent": True})
        Transaction = self.env["loyalty_plus.transaction"].with_user(self.portal_lea)
        self.assertEqual(Transaction.search([]).card_id, self.card_lea)
        with self.assertRaises(AccessError):
            self.card_tom.transaction_ids.with_user(self.portal_lea).read(["points_delta"])
        # what the card shows is readable, nothing of programs the customer is not in
        self.assertTrue(self.croissant.with_user(self.portal_lea).name)
        self.assertTrue(self.silver.with_user(self.portal_lea).name)
        self.assertTrue(self.program.with_user(self.portal_lea).name)
        cafe = self.env["res.company"].create({"name": "Web Café"})
        cafe_program = self.env["loyalty_plus.program"].create({"name": "Café", "company_id": cafe.id})
        with self.assertRaises(AccessError):
            cafe_program.with_user(self.portal_lea).read(["name"])

    def test_card_page_history_pager_rewards_and_tier(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        page = self.url_open(f"/my/loyalty/{self.card_lea.id}")
        self.assertEqual(page.status_code, 200)
        text = page.text
        self.assertEqual(text.count('o_loyalty_plus_visit"'), 10, "10 visits on the first page")
        self.assertIn(f"/my/loyalty/{self.card_lea.id}/page/2", text)
        self.assertIn("Free croissant", text)
        self.assertIn("Available now", text)
        self.assertIn("Not enough points yet", text)
        self.assertIn("points to Silver", text)
        self.assertIn("2 / 5", text)
        page2 = self.url_open(f"/my/loyalty/{self.card_lea.id}/page/2")
        # 14 ledger rows, 12 visits: the welcome bonus came with the first purchase, the stamps with the last
        self.assertEqual(page2.text.count('o_loyalty_plus_visit"'), 2)

    def test_printable_card(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        for url in (f"/my/loyalty/{self.card_lea.id}/print?report_type=html", f"/my/loyalty/{self.card_lea.id}/print"):
            with self.subTest(url=url):
                # without wkhtmltopdf the test mode renders the PDF report as HTML
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200)
                self.assertIn(self.card_lea._get_formatted_number(), response.text)
                self.assertIn("data:image/svg+xml;base64,", response.text)
                self.assertIn("Lea Portal", response.text)

    def test_portal_home_counter(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        response = self.url_open(
            "/my/counters",
            data=json.dumps({"params": {"counters": ["loyalty_plus_card_count"]}}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.json()["result"], {"loyalty_plus_card_count": 1})
        home = self.url_open("/my/home").text
        self.assertIn('href="/my/loyalty"', home)

    @mute_logger("odoo.http")
    def test_anonymous_visitor_is_sent_to_login(self):
        response = self.url_open(f"/my/loyalty/{self.card_lea.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_portal_ledger_shows_the_shop_not_the_staff(self):
        """Who served the customer is the shop's business: a portal customer reads the shop of each
        of their ledger rows, never the staff member, the cashier or the request's origin."""
        pin = self.env["loyalty_plus.staff_pin"].create(
            {"name": "Anna Cashier", "program_id": self.program.id, "shop_id": self.bakery.id, "new_pin": "1234"}
        )
        self.card_lea._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id, "staff_pin_id": pin.id}
        )
        rows = self.card_lea.transaction_ids.with_user(self.portal_lea)
        self.assertEqual(rows[:1].shop_id.sudo(), self.bakery)
        for field in ("staff_pin_id", "user_id", "admin_user_id", "request_ip", "user_agent"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                rows.read([field])
        pin.name = "Annabelle Cashier"
        self.authenticate("lp_web_lea", "lp_web_lea")
        response = self.url_open(f"/my/loyalty/{self.card_lea.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Web Bakery", response.text)
        self.assertNotIn("Annabelle Cashier", response.text)
