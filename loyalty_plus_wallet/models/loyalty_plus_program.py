from odoo import fields, models

# What a pass shows of its program: a change re-issues every pass of the program.
PASS_BRANDING_FIELDS = {
    "name",
    "card_name",
    "program_type",
    "stamps_target",
    "stamps_reward_description",
    "primary_color",
    "secondary_color",
    "logo",
    "hero_image",
    "terms_text",
}


class LoyaltyPlusProgram(models.Model):
    _inherit = "loyalty_plus.program"

    wallet_google_class_outdated = fields.Boolean(
        readonly=True, copy=False, help="The Google Wallet class must be sent again (branding changed)"
    )
    # the class id holds the issuer ID and the database: another id means Google has no such class yet
    wallet_google_class_id = fields.Char(
        string="Google Wallet class", readonly=True, copy=False, help="The id of the class last saved to Google Wallet"
    )

    def write(self, vals):
        res = super().write(vals)
        if PASS_BRANDING_FIELDS & vals.keys():
            self.sudo().wallet_google_class_outdated = True
            passes = self.env["loyalty_plus.wallet_pass"].sudo().search([("card_id.program_id", "in", self.ids)])
            passes._mark_changed()
        return res
