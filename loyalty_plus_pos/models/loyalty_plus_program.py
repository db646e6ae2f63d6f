from odoo import api, models


class LoyaltyPlusProgram(models.Model):
    _name = "loyalty_plus.program"
    _inherit = ["loyalty_plus.program", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        return [("company_id", "=", config.company_id.root_id.id)]

    @api.model
    def _load_pos_data_fields(self, config):
        return [
            "name",
            "card_name",
            "program_type",
            "stamps_target",
            "stamps_reward_description",
            "points_per_euro",
            "minimum_purchase",
            "minimum_redemption_points",
            "require_staff_pin",
            "primary_color",
            "secondary_color",
        ]
