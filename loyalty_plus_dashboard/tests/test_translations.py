from odoo.tests import TransactionCase, tagged

from odoo.addons.loyalty_plus.tests.common_i18n import TranslationCompletenessMixin


@tagged("post_install", "-at_install")
class TestDashboardTranslations(TranslationCompletenessMixin, TransactionCase):
    """The dashboard's titles and labels in French, German and Luxembourgish."""

    _i18n_module = "loyalty_plus_dashboard"
