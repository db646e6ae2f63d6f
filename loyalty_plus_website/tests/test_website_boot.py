from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestLoyaltyPlusWebsiteBoot(HttpCase):
    def test_login_page_served(self):
        response = self.url_open("/web/login")
        self.assertEqual(response.status_code, 200)
        self.assertIn('name="csrf_token"', response.text)

    def test_homepage_tour(self):
        self.start_tour("/", "loyalty_plus_website_home")
