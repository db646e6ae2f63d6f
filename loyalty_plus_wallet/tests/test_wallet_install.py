from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestLoyaltyPlusWalletInstall(TransactionCase):
    def test_installed_with_engine(self):
        modules = self.env["ir.module.module"].search([("name", "in", ("loyalty_plus", "loyalty_plus_wallet"))])
        self.assertEqual(set(modules.mapped("state")), {"installed"})
