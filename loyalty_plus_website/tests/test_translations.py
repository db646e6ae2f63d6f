from odoo.tests import TransactionCase, tagged

from odoo.addons.loyalty_plus.tests.common_i18n import TranslationCompletenessMixin


@tagged("post_install", "-at_install")
class TestLoyaltyPlusWebsiteTranslations(TranslationCompletenessMixin, TransactionCase):
    _i18n_module = "loyalty_plus_website"
    _i18n_min_strings = 200
