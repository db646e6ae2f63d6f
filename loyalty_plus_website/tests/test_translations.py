from odoo.tests import TransactionCase, tagged

from odoo.addons.loyalty_plus.tests.common_i18n import TranslationCompletenessMixin


@tagged("post_install", "-at_install")
class TestLoyaltyPlusWebsiteTranslations(TranslationCompletenessMixin, TransactionCase):
    _i18n_module = "loyalty_plus_website"
    _i18n_min_strings = 200


@tagged("post_install", "-at_install")
class TestWebsiteMenuTranslations(TransactionCase):
    def test_each_website_menu_is_translated(self):
        """The websites' copies of our menus read in the page's language, like their originals."""
        from odoo.addons.loyalty_plus_website.hooks import post_init_hook

        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["loyalty_plus_website"], ["fr_FR"], overwrite=True)
        original = self.env.ref("loyalty_plus_website.menu_pricing")
        self.env["website"].create({"name": "Second shop website"})  # its own copies of the menus
        copies = self.env["website.menu"].search([("url", "=", original.url), ("website_id", "!=", False)])
        self.assertGreater(len(copies), 1)
        post_init_hook(self.env)
        self.assertEqual(set(copies.with_context(lang="fr_FR").mapped("name")), {"Tarifs"})
        self.assertEqual(set(copies.with_context(lang="en_US").mapped("name")), {"Pricing"})
