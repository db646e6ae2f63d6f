from odoo.tests import tagged

from .common import LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestPosReferral(LoyaltyPlusPosCommon):
    """A customer enrolled at the till with the invitation code of a member: the engine records the
    referral; a code that does not count never refuses the new card, and the cashier is told why."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"referral_bonus_points": 50, "referred_bonus_points": 25})
        cls.card.referral_code = "LEAC2345"
        cls.main_pos_config.with_user(cls.pos_user).open_ui()

    def _card(self, email):
        return self.env["loyalty_plus.card"].search([("partner_id.email", "=", email)])

    def _enroll(self, name, email, referral_code, **kwargs):
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        return Card.lp_enroll(self.main_pos_config.id, name, email, referral_code=referral_code, **kwargs)

    def test_enroll_with_a_referral_code_at_the_till(self):
        self.start_pos_tour("loyalty_plus_pos_enroll_referral")
        nora = self._card("nora.invited@example.com")
        self.assertEqual(nora.referred_by_id, self.card)
        referral = self.env["loyalty_plus.referral"].search([("referred_card_id", "=", nora.id)])
        self.assertEqual((referral.referrer_card_id, referral.state), (self.card, "pending"))
        otto = self._card("otto.guess@example.com")
        self.assertTrue(otto, "a code of nobody never refuses the card")
        self.assertFalse(otto.referred_by_id)
        self.assertFalse(self.env["loyalty_plus.referral"].search([("referred_card_id", "=", otto.id)]))

    def test_what_became_of_the_code_is_in_the_answer(self):
        summary = self._enroll("Nina Invited", "nina.invited@example.com", " leac 2345 ")
        self.assertTrue(summary["created"])
        self.assertEqual(summary["referral"], {"state": "pending", "message": False})
        # the friend who shares the member's phone: recorded as refused, with the reason
        self.lea.phone = "+352621111222"
        summary = self._enroll("Lea Twin", "lea.twin@example.com", "LEAC2345", phone="+352621111222")
        self.assertEqual(summary["referral"]["state"], "refused")
        self.assertIn("phone number", summary["referral"]["message"])
        twin = self.env["loyalty_plus.referral"].search([("referred_card_id", "=", summary["id"])])
        self.assertEqual((twin.state, twin.refusal_code), ("refused", "shared_phone"))
        # a code of nobody: the card stands, no referral
        summary = self._enroll("Otto Guess", "otto.guess@example.com", "ZZZZ9999")
        self.assertTrue(summary["created"])
        self.assertEqual(summary["referral"]["state"], "not_found")
        self.assertIn("ZZZZ9999", summary["referral"]["message"])
        self.assertFalse(self.env["loyalty_plus.card"].browse(summary["id"]).referred_by_id)
        # a customer who was already a member cannot be invited
        summary = self._enroll("Otto Guess", "otto.guess@example.com", "LEAC2345")
        self.assertFalse(summary["created"])
        self.assertEqual(summary["referral"]["state"], "not_new")
        self.assertFalse(self.env["loyalty_plus.card"].browse(summary["id"]).referred_by_id)
        # no code, no referral key
        self.assertNotIn("referral", self._enroll("Ada Plain", "ada.plain@example.com", ""))
