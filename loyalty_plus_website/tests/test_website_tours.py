from odoo.tests import tagged

from .common import LoyaltyPlusWebsiteCase


@tagged("post_install", "-at_install")
class TestWebsiteTours(LoyaltyPlusWebsiteCase):
    def setUp(self):
        super().setUp()
        self.install_axe()

    def _cards_of(self, email):
        return (
            self.env["loyalty_plus.card"]
            .with_context(active_test=False)
            .search([("partner_id.email", "=ilike", email)])
        )

    def test_enroll_new_customer(self):
        self.start_tour(f"/loyalty/web-bakery/join?shop={self.branch_esch.id}", "loyalty_plus_website_enroll_new")
        card = self._cards_of("marie.hoffmann@example.com")
        self.assertEqual(len(card), 1)
        self.assertEqual(card.shop_id, self.branch_esch)
        self.assertFalse(card.marketing_consent)
        self.assertEqual(str(card.partner_id.birthday), "1985-06-30")

    def test_enroll_invalid_inputs_create_nothing(self):
        partners_before = self.env["res.partner"].with_context(active_test=False).search_count([])
        cards_before = self.env["loyalty_plus.card"].with_context(active_test=False).search_count([])
        self.start_tour("/loyalty/web-bakery/join", "loyalty_plus_website_enroll_invalid")
        self.assertEqual(self.env["res.partner"].with_context(active_test=False).search_count([]), partners_before)
        self.assertEqual(self.env["loyalty_plus.card"].with_context(active_test=False).search_count([]), cards_before)

    def test_enroll_again_card_valid_in_every_shop(self):
        self.assertTrue(self.bakery.loyalty_plus_cross_location)
        self.start_tour(
            f"/loyalty/web-bakery/join?shop={self.branch_esch.id}", "loyalty_plus_website_enroll_again_every_shop"
        )
        self.assertEqual(self._cards_of("lea.portal@example.com"), self.card_lea)
        self.assertEqual(self.portal_lea.partner_id.name, "Lea Portal")

    def test_enroll_again_card_per_shop(self):
        self.bakery.loyalty_plus_cross_location = False
        self.start_tour(
            f"/loyalty/web-bakery/join?shop={self.branch_diff.id}", "loyalty_plus_website_enroll_again_per_shop"
        )
        cards = self._cards_of("lea.portal@example.com")
        self.assertEqual(len(cards), 2)
        self.assertEqual(set(cards.mapped("shop_id").ids), {self.bakery.id, self.branch_diff.id})

    def test_portal_card_history_and_print(self):
        self.start_tour("/my/loyalty", "loyalty_plus_website_portal", login="lp_web_lea")
