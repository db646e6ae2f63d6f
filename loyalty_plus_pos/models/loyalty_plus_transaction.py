from odoo import fields, models


class LoyaltyPlusTransaction(models.Model):
    _inherit = "loyalty_plus.transaction"

    pos_order_id = fields.Many2one(
        "pos.order", string="POS order", readonly=True, index="btree_not_null", ondelete="restrict"
    )
