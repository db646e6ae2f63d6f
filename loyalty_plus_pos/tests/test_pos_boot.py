from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


@tagged("post_install", "-at_install")
class TestLoyaltyPlusPosBoot(TestPointOfSaleHttpCommon):
    def test_pos_opens_and_sells(self):
        """The POS boots and rings up a sale with Loyalty+ installed."""
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("loyalty_plus_pos_boot")
        order = self.env["pos.order"].search([("session_id", "=", self.main_pos_config.current_session_id.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
