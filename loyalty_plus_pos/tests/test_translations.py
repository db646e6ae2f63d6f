import io

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

from odoo.addons.loyalty_plus.tests.common_i18n import TranslationCompletenessMixin


@tagged("post_install", "-at_install")
class TestLoyaltyPlusPosTranslations(TranslationCompletenessMixin, TransactionCase):
    _i18n_module = "loyalty_plus_pos"
    _i18n_min_strings = 50

    def test_stamp_card_label_is_translatable(self):
        """The stamp card's screen-reader label is a whole sentence the exporter finds (JS _t)."""
        buffer = io.BytesIO()
        trans_export(None, [self._i18n_module], buffer, "po", self.env)
        live = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode())}
        self.assertIn("%(stamps)s of %(target)s stamps", live)
