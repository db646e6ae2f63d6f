from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestMerchantSettings(LoyaltyPlusCase):
    """A merchant's manager keeps its Loyalty+ settings (Odoo's Settings app saves for administrators
    only); nobody else does."""

    def _settings(self, user, company=None, **values):
        Settings = self.as_user(self.env["loyalty_plus.merchant.settings"], user, company)
        return Settings.create(values)

    def test_manager_saves_its_merchants_settings(self):
        settings = self._settings(self.manager, self.branch_esch)
        # opened from a branch: the settings are the merchant's
        self.assertEqual(settings.company_id, self.bakery)
        self.assertEqual(settings.pin_max_attempts, self.bakery.loyalty_plus_pin_max_attempts)
        settings.write({"pin_max_attempts": 9, "self_enrollment": False, "void_policy": "cashier"})
        settings.action_save()
        self.assertEqual(self.bakery.loyalty_plus_pin_max_attempts, 9)
        self.assertFalse(self.bakery.loyalty_plus_self_enrollment)
        self.assertEqual(self.bakery.loyalty_plus_void_policy, "cashier")
        self.assertTrue(self.cafe.loyalty_plus_self_enrollment, "another merchant is untouched")

    def test_other_merchants_manager_refused(self):
        settings = self._settings(self.cafe_manager, company_id=self.bakery.id, pin_max_attempts=1)
        with self.assertRaises(AccessError):
            settings.action_save()
        self.assertNotEqual(self.bakery.loyalty_plus_pin_max_attempts, 1)

    def test_cashier_has_no_merchant_settings(self):
        with self.assertRaises(AccessError):
            self._settings(self.cashier)

    def test_merchant_rules_still_apply(self):
        self.bakery.loyalty_plus_cross_location = False
        self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner.id, "program_id": self.program.id, "shop_id": self.branch_esch.id}
        )
        settings = self._settings(self.manager, cross_location=True)
        with self.assertRaisesRegex(ValidationError, "hold a card in several shops"):
            settings.action_save()
