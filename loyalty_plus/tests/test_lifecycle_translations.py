from odoo.tests import TransactionCase, tagged

from .common_i18n import TranslationCompletenessMixin


@tagged("post_install", "-at_install")
class TestLifecycleTranslations(TranslationCompletenessMixin, TransactionCase):
    _i18n_module = "loyalty_plus"
    _i18n_min_strings = 100
