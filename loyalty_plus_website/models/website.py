from odoo import api, models
from odoo.fields import Command

DEMO_LANGS = ("fr_FR", "de_DE", "lb_LU")
PALETTE_URL = "/website/static/src/scss/options/colors/user_color_palette.scss"


class Website(models.Model):
    _inherit = "website"

    @api.model
    def _loyalty_plus_demo_languages(self):
        """Demo: serve the websites in English, French, German and Luxembourgish."""
        langs = self.env["res.lang"]
        for code in DEMO_LANGS:
            langs |= self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"].search([("state", "=", "installed")])._update_translations(list(DEMO_LANGS))
        self.search([]).write({"language_ids": [Command.link(lang.id) for lang in langs]})

    @api.model
    def _loyalty_plus_demo_branding(self, websites):
        """Demo: each merchant's website carries the merchant's name, logo, address and the colours
        of its program, as the website builder would set them. ``websites``: pairs of xml ids
        (website, merchant company)."""
        for website_xmlid, merchant_xmlid in websites:
            website = self.env.ref(website_xmlid, raise_if_not_found=False)
            merchant = self.env.ref(merchant_xmlid, raise_if_not_found=False)
            if not website or not merchant:
                continue
            website.write({"name": merchant.name, "company_id": merchant.id, "logo": merchant.logo})
            program = self.env["loyalty_plus.program"].sudo()._get_for_shop(merchant)
            if program:
                self.env["website.assets"].with_context(website_id=website.id).make_scss_customization(
                    PALETTE_URL, {"o-color-1": program.primary_color, "o-color-3": program.secondary_color}
                )
            # switched on for this website only: the builder's website-specific copies of the views
            for xmlid in ("loyalty_plus_website.merchant_footer", "loyalty_plus_website.merchant_header_phone"):
                self.env.ref(xmlid).with_context(website_id=website.id).write({"active": True})
