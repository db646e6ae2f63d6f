from odoo.tests import tagged

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal
from odoo.addons.loyalty_plus.tests.test_plans import fill_members

from .common import LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestPosPlanLimits(LoyaltyPlusPosCommon):
    def test_501st_member_refused_at_the_till(self):
        """The till's enrollment (``lp_enroll``) meets the plan's member limit of the engine."""
        self.shop.loyalty_plus_plan_id = self.env.ref("loyalty_plus.plan_starter")
        fill_members(self.program, 499 - self.shop._loyalty_plus_count_members())
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        config = self.main_pos_config.id
        self.assertTrue(Card.lp_enroll(config, "Member 500", "member500@example.com")["created"])
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            Card.lp_enroll(config, "Member 501", "member501@example.com")
        self.assertEqual(caught.exception.code, "plan_limit")
        self.assertIn("500 members of its Starter plan", caught.exception.args[0])
        self.assertIn("Growth", caught.exception.args[0])
        self.assertFalse(
            Card.lp_enroll(config, "Member 500", "member500@example.com")["created"], "a member comes back"
        )
