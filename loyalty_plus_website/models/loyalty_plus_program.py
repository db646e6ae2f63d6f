from odoo import fields, models


class LoyaltyPlusProgram(models.Model):
    _inherit = "loyalty_plus.program"

    terms_page_id = fields.Many2one(
        "website.page",
        string="Terms page",
        domain="['|', ('website_id', '=', False), ('website_id.company_id', '=', company_id)]",
        help="The page of the merchant's website holding the program terms; "
        "without it the program's terms text is shown.",
    )
    privacy_page_id = fields.Many2one(
        "website.page",
        string="Privacy page",
        domain="['|', ('website_id', '=', False), ('website_id.company_id', '=', company_id)]",
        help="The page of the merchant's website holding the privacy policy; "
        "without it the privacy URL, then the default privacy page, is linked.",
    )

    def _get_terms_url(self):
        self.ensure_one()
        program = self.sudo()
        if program.terms_page_id.is_published:
            return program.terms_page_id.url
        return f"/loyalty/{program.company_id.loyalty_plus_slug}/terms"

    def _get_privacy_url(self):
        self.ensure_one()
        program = self.sudo()
        if program.privacy_page_id.is_published:
            return program.privacy_page_id.url
        return program.privacy_url or "/loyalty-privacy"
