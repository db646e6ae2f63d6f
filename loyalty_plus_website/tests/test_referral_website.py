from odoo.tests import tagged

from .common import LoyaltyPlusWebsiteCase

JOIN_URL = "/loyalty/web-bakery/join"


@tagged("post_install", "-at_install")
class TestReferralWebsite(LoyaltyPlusWebsiteCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"referral_bonus_points": 50, "referred_bonus_points": 25})

    def _join(self, ref, email="nora.referred@example.com", url=JOIN_URL):
        """The join page opened from an invitation link, then sent: ``(page, response, card)``."""
        page = self.url_open(f"{url}{'&' if '?' in url else '?'}ref={ref}")
        self.assertEqual(page.status_code, 200, page.text[:500])
        data = {
            "first_name": "Nora",
            "last_name": "Referred",
            "email": email,
            "phone": "+352 621 555 999",
            "lang": "en_US",
            "terms": "1",
            "csrf_token": self.get_csrf_token(url),
            "ref": ref,
        }
        response = self.url_open(url, data=data, allow_redirects=False)
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", email)])
        return page, response, card

    def test_referral_link_is_the_merchant_join_page(self):
        url = self.card_lea.referral_url
        self.assertEqual(url, f"{self.card_lea.get_base_url()}{JOIN_URL}?ref={self.card_lea.referral_code}")
        # a member of a branch invites to their branch
        self.assertIn(f"{JOIN_URL}?shop={self.branch_esch.id}&ref=", self.card_tom.referral_url)

    def test_join_with_a_code_records_the_referral(self):
        code = self.card_lea.referral_code
        page, response, card = self._join(code)
        self.assertIn(f'name="ref" value="{code}"', page.text, "the code travels with the form")
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(len(card), 1)
        self.assertEqual(card.referred_by_id, self.card_lea)
        referral = self.env["loyalty_plus.referral"].search([("referred_card_id", "=", card.id)])
        self.assertEqual(referral.state, "pending")
        # the first purchase pays both
        card._earn_order(
            [{"product_id": False, "qty": 1, "price_incl": 10, "price_excl": 10}], self.bakery, order_ref="WEB-REF-1"
        )
        self.assertEqual(referral.state, "rewarded")
        bonus = self.card_lea.transaction_ids.filtered(lambda row: row.transaction_type == "referral_bonus")
        self.assertEqual(bonus.points_delta, 50)

    def test_join_with_an_unknown_code_still_enrolls(self):
        page, response, card = self._join("NOPE2345")
        self.assertIn('name="ref"', page.text)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(len(card), 1, "the customer is never lost to a wrong code")
        self.assertFalse(card.referred_by_id)

    def test_join_without_a_code_has_no_hidden_field(self):
        self.assertNotIn('name="ref"', self.url_open(JOIN_URL).text)

    def test_portal_card_page_shows_the_invitation(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        text = self.url_open(f"/my/loyalty/{self.card_lea.id}").text
        self.assertIn("o_loyalty_plus_referral", text)
        self.assertIn(self.card_lea.referral_code, text)
        self.assertIn(f'value="{self.card_lea.referral_url}"', text)
        self.assertIn("o_loyalty_plus_referral_copy", text)
        self.assertIn("you get 50 points and your friend gets 25 points", text)
        # a program without referral bonus offers no invitation
        self.program.write({"referral_bonus_points": 0, "referred_bonus_points": 0})
        text = self.url_open(f"/my/loyalty/{self.card_lea.id}").text
        self.assertNotIn("o_loyalty_plus_referral", text)

    def test_copy_button_copies_the_link(self):
        self.start_tour(f"/my/loyalty/{self.card_lea.id}", "loyalty_plus_website_referral_copy", login="lp_web_lea")
