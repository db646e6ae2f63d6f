from odoo import api, fields, models

# written by the server when the order syncs; whatever a browser sends for them is dropped
SERVER_LINE_FIELDS = ("lp_transaction_id", "lp_redemption_id", "lp_issued_code")


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    # own names: native pos_loyalty uses reward_id / coupon_id / points_cost on this model
    lp_reward_id = fields.Many2one(
        "loyalty_plus.reward", string="Loyalty+ reward", readonly=True, index="btree_not_null"
    )
    lp_card_id = fields.Many2one("loyalty_plus.card", string="Loyalty+ card", readonly=True)
    lp_stamp_reward = fields.Boolean(
        string="Stamp card reward", readonly=True, help="The free item of a full stamp card"
    )
    lp_staff_pin_id = fields.Many2one(
        "loyalty_plus.staff_pin", string="Approved by", readonly=True, help="Who approved the stamp reward"
    )
    lp_grant = fields.Char(string="Stamp reward approval", readonly=True, copy=False)
    lp_voucher_code = fields.Char(
        string="Voucher code used", readonly=True, copy=False, help="A code the customer brought"
    )
    lp_transaction_id = fields.Many2one(
        "loyalty_plus.transaction", string="Loyalty+ redemption", readonly=True, copy=False
    )
    lp_redemption_id = fields.Many2one(
        "loyalty_plus.redemption", string="Loyalty+ code", readonly=True, copy=False, index="btree_not_null"
    )
    lp_issued_code = fields.Char(
        string="Voucher code issued", readonly=True, copy=False, help="The code of a voucher kept for later"
    )
    lp_campaign_id = fields.Many2one(
        "loyalty_plus.campaign",
        string="Loyalty+ promotion",
        readonly=True,
        index="btree_not_null",
        help="The discount promotion this line gives",
    )

    def _lp_is_loyalty_line(self):
        """A line a reward, a voucher or a promotion put on the order: it earns nothing."""
        self.ensure_one()
        return bool(self.lp_reward_id or self.lp_stamp_reward or self.lp_voucher_code or self.lp_campaign_id)

    @api.model
    def _load_pos_data_fields(self, config):
        return [
            *super()._load_pos_data_fields(config),
            "lp_reward_id",
            "lp_card_id",
            "lp_stamp_reward",
            "lp_staff_pin_id",
            "lp_grant",
            "lp_voucher_code",
            "lp_issued_code",
            "lp_campaign_id",
        ]
