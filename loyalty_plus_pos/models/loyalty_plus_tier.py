from odoo import api, models


class LoyaltyPlusTier(models.Model):
    _name = "loyalty_plus.tier"
    _inherit = ["loyalty_plus.tier", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        return [("program_id", "in", [program["id"] for program in data["loyalty_plus.program"]])]

    @api.model
    def _load_pos_data_fields(self, config):
        return ["name", "program_id", "threshold_points", "multiplier"]
