from odoo import api, models


class LoyaltyPlusReward(models.Model):
    _name = "loyalty_plus.reward"
    _inherit = ["loyalty_plus.reward", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        return [("program_id", "in", [program["id"] for program in data["loyalty_plus.program"]])]

    @api.model
    def _load_pos_data_fields(self, config):
        return [
            "name",
            "program_id",
            "points_cost",
            "reward_kind",
            "discount_amount",
            "discount_percent",
            "product_id",
            "date_from",
            "date_to",
        ]
