import io
import os
import re

import polib

from odoo.modules import get_module_path
from odoo.tools.translate import trans_export

LANGS = ("fr", "de", "lb")
# named and positional Python/JS placeholders, Apple's %@, QWeb expressions and inline templates
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%[sd@]|\{\{.*?\}\}|t-out=\"[^\"]*\"|t-esc=\"[^\"]*\"")


class TranslationCompletenessMixin:
    """Checks a module's committed i18n: mix into a TransactionCase and set ``_i18n_module``.

    - the committed <module>.pot holds every string the module has now (Python, data, views, JS/OWL);
    - every msgid is translated, non-fuzzy, with the same placeholders in fr.po, de.po and lb.po.
    """

    # Odoo's test loader only collects a class's own test methods unless this is set
    allow_inherited_tests_method = True
    _i18n_module = None
    _i18n_langs = LANGS
    _i18n_min_strings = 1

    def _i18n_path(self, filename):
        self.assertTrue(self._i18n_module, "set _i18n_module on the test class")
        return os.path.join(get_module_path(self._i18n_module), "i18n", filename)

    def _i18n_pot(self):
        return polib.pofile(self._i18n_path(f"{self._i18n_module}.pot"))

    def test_pot_is_current(self):
        """The committed .pot holds every string the module has now (regenerate it when this fails)."""
        buffer = io.BytesIO()
        trans_export(None, [self._i18n_module], buffer, "po", self.env)
        live = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode())}
        self.assertGreaterEqual(len(live), self._i18n_min_strings, "the export found no strings")
        committed = {entry.msgid for entry in self._i18n_pot()}
        missing = sorted(live - committed)
        self.assertFalse(missing, f"strings missing from {self._i18n_module}.pot: {missing[:10]}")

    def test_every_string_translated(self):
        pot = self._i18n_pot()
        self.assertGreaterEqual(len(pot), self._i18n_min_strings)
        for lang in self._i18n_langs:
            po = polib.pofile(self._i18n_path(f"{lang}.po"))
            translations = {entry.msgid: entry for entry in po}
            for entry in pot:
                with self.subTest(lang=lang, msgid=entry.msgid[:60]):
                    translated = translations.get(entry.msgid)
                    self.assertTrue(translated and translated.msgstr.strip(), "untranslated")
                    self.assertNotIn("fuzzy", translated.flags)
                    self.assertEqual(
                        sorted(PLACEHOLDER.findall(translated.msgstr)),
                        sorted(PLACEHOLDER.findall(entry.msgid)),
                        "placeholders differ",
                    )
