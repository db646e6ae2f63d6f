from odoo import fields, models


class LoyaltyPlusTransaction(models.Model):
    _inherit = "loyalty_plus.transaction"

    pos_order_id = fields.Many2one(
        "pos.order", string="POS order", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    # who rang the sale: the till's employee (pos_hr) or its user, as the order names them, kept
    # as it was that day; the shop's business, not the customer's
    pos_cashier = fields.Char(string="Cashier", readonly=True, groups="base.group_user")
