import re

from odoo.tests import tagged

from .common import LoyaltyPlusWebsiteCase

PLATFORM_URLS = ("/loyalty-plus", "/loyalty-plus/features", "/loyalty-plus/how-it-works", "/loyalty-plus/pricing")


@tagged("post_install", "-at_install")
class TestPlatformPages(LoyaltyPlusWebsiteCase):
    def test_pages_promise_only_what_the_product_does(self):
        for url in PLATFORM_URLS:
            with self.subTest(url=url):
                text = self.url_open(url).text.lower()
                for promise in ("referral", "return on investment", "roi", "free trial", "14-day", "credit card"):
                    self.assertNotRegex(text, rf"\b{re.escape(promise)}\b")

    def test_get_started_leads_to_the_request_form(self):
        for url in ("/loyalty-plus", "/loyalty-plus/how-it-works"):
            with self.subTest(url=url):
                self.assertIn('href="/loyalty-plus/get-started"', self.url_open(url).text)
        form = self.url_open("/loyalty-plus/get-started?plan=growth")
        self.assertEqual(form.status_code, 200)
        self.assertIn('data-model_name="loyalty_plus.merchant_request"', form.text)
        self.assertRegex(form.text, r'<option value="growth" selected')
        self.assertEqual(self.url_open("/loyalty-plus/thank-you").status_code, 200)

    def test_posting_the_form_creates_a_request(self):
        Request = self.env["loyalty_plus.merchant_request"]
        response = self.url_open(
            "/website/form/loyalty_plus.merchant_request",
            data={
                "business_name": "  Boulangerie Post  ",
                "contact_name": "Paul Post",
                "email": "paul.post@example.com",
                "phone": "+352 621 000 111",
                "shop_count": "2",
                "plan": "starter",
                "message": "We sell bread.",
                # a field the form may not write
                "state": "done",
            },
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        request_id = response.json().get("id")
        self.assertTrue(request_id, response.text)
        merchant_request = Request.browse(request_id)
        self.assertEqual(merchant_request.business_name, "Boulangerie Post")
        self.assertEqual(merchant_request.email, "paul.post@example.com")
        self.assertEqual(merchant_request.shop_count, 2)
        self.assertEqual(merchant_request.plan, "starter")
        self.assertIn("We sell bread.", merchant_request.message)
        self.assertEqual(merchant_request.state, "new", "the form cannot set the state")

    def test_form_without_required_fields_creates_nothing(self):
        count = self.env["loyalty_plus.merchant_request"].search_count([])
        response = self.url_open("/website/form/loyalty_plus.merchant_request", data={"business_name": "No Contact"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json().get("error_fields"), ["contact_name", "email"], response.text)
        self.assertEqual(self.env["loyalty_plus.merchant_request"].search_count([]), count)


@tagged("post_install", "-at_install")
class TestPlatformPagesTours(LoyaltyPlusWebsiteCase):
    def setUp(self):
        super().setUp()
        self.install_axe()

    def test_get_started_form_and_accessibility(self):
        self.start_tour("/loyalty-plus", "loyalty_plus_website_platform_pages")
        merchant_request = self.env["loyalty_plus.merchant_request"].search([("email", "=", "nora.tour@example.com")])
        self.assertEqual(len(merchant_request), 1)
        self.assertEqual(merchant_request.business_name, "Boulangerie Tour")
        self.assertEqual(merchant_request.shop_count, 3)
        self.assertEqual(merchant_request.plan, "growth")

    def test_platform_pages_accessible(self):
        for url in PLATFORM_URLS[1:]:
            with self.subTest(url=url):
                self.start_tour(url, "loyalty_plus_website_platform_page_axe")
