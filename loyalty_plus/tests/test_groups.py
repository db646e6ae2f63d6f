from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestLoyaltyPlusGroups(TransactionCase):
    def test_group_hierarchy(self):
        cashier = self.env.ref("loyalty_plus.group_loyalty_plus_cashier")
        manager = self.env.ref("loyalty_plus.group_loyalty_plus_manager")
        admin = self.env.ref("loyalty_plus.group_loyalty_plus_admin")
        self.assertIn(cashier, manager.all_implied_ids)
        self.assertIn(manager, admin.all_implied_ids)
        self.assertNotIn(admin, manager.all_implied_ids)
        self.assertTrue(self.env.ref("base.user_admin").has_group("loyalty_plus.group_loyalty_plus_admin"))
