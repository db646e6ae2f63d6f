from odoo import api, models
from odoo.fields import Command

DEMO_LANGS = ("fr_FR", "de_DE", "lb_LU")


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
