from odoo import fields, models


class LoyaltyPlusWalletRegistration(models.Model):
    """An Apple device that holds a pass and wants to hear when it changes (PassKit web service)."""

    _name = "loyalty_plus.wallet_registration"
    _description = "Loyalty+ Apple Wallet device registration"
    _order = "id"
    _rec_name = "device_library_identifier"

    pass_id = fields.Many2one("loyalty_plus.wallet_pass", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="pass_id.company_id", store=True, string="Merchant")
    device_library_identifier = fields.Char(required=True, index=True)
    push_token = fields.Char(required=True)

    _device_pass_unique = models.UniqueIndex("(device_library_identifier, pass_id)", "A device registers a pass once.")
