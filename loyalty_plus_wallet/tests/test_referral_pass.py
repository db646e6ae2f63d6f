from odoo.tests import tagged

from .common import ISSUER_ID, WalletCase


@tagged("post_install", "-at_install")
class TestReferralPass(WalletCase):
    """The member's invitation link on the back of the Apple pass and in the Google card's links."""

    def _apple_back(self, wallet_pass):
        return {field["key"]: field for field in wallet_pass._prepare_apple_fields()["backFields"]}

    def test_passes_carry_the_invitation_link_when_the_program_offers_a_bonus(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        self.assertNotIn("referral", self._apple_back(wallet_pass), "no bonus, no invitation")
        self.assertNotIn("linksModuleData", wallet_pass._prepare_google_object(ISSUER_ID))

        self.program.referral_bonus_points = 50
        back = self._apple_back(wallet_pass)["referral"]
        self.assertEqual(back["label"], "Invite a friend")
        self.assertEqual(back["value"], self.card.referral_url)
        self.assertIn(f"ref={self.card.referral_code}", back["value"])
        links = wallet_pass._prepare_google_object(ISSUER_ID)["linksModuleData"]["uris"]
        self.assertEqual(links, [{"id": "referral", "uri": self.card.referral_url, "description": "Invite a friend"}])
