from odoo import fields, models


class BarcodeRule(models.Model):
    _inherit = "barcode.rule"

    type = fields.Selection(
        selection_add=[("loyalty_plus_card", "Loyalty+ card")], ondelete={"loyalty_plus_card": "set default"}
    )
