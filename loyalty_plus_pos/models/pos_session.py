from odoo import api, models


class PosSession(models.Model):
    _inherit = "pos.session"

    @api.model
    def _load_pos_data_models(self, config):
        return [
            *super()._load_pos_data_models(config),
            "loyalty_plus.program",
            "loyalty_plus.reward",
            "loyalty_plus.tier",
            "loyalty_plus.staff_pin",
            "loyalty_plus.card",
            "loyalty_plus.campaign",
        ]
