from odoo import api, fields, models


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    # own names: native pos_loyalty uses reward_id / coupon_id / points_cost on this model
    lp_reward_id = fields.Many2one(
        "loyalty_plus.reward", string="Loyalty+ reward", readonly=True, index="btree_not_null"
    )
    lp_card_id = fields.Many2one("loyalty_plus.card", string="Loyalty+ card", readonly=True)
    lp_transaction_id = fields.Many2one(
        "loyalty_plus.transaction", string="Loyalty+ redemption", readonly=True, copy=False
    )

    @api.model
    def _load_pos_data_fields(self, config):
        return [*super()._load_pos_data_fields(config), "lp_reward_id", "lp_card_id"]
