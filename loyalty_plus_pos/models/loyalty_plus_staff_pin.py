from odoo import api, models


class LoyaltyPlusStaffPin(models.Model):
    _name = "loyalty_plus.staff_pin"
    _inherit = ["loyalty_plus.staff_pin", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        return [
            ("program_id", "in", [program["id"] for program in data["loyalty_plus.program"]]),
            ("shop_id", "=", config.company_id.id),
        ]

    @api.model
    def _load_pos_data_fields(self, config):
        # names only: the till picks who stamps, the server checks the PIN
        return ["name", "program_id"]
