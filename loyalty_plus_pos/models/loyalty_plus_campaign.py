from odoo import api, models


class LoyaltyPlusCampaign(models.Model):
    _name = "loyalty_plus.campaign"
    _inherit = ["loyalty_plus.campaign", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        # the promotions a line of the till may name; which of them run now, the server says
        return [
            ("company_id", "=", config.company_id.root_id.id),
            ("campaign_type", "=", "discount"),
            ("state", "!=", "ended"),
        ]

    @api.model
    def _load_pos_data_fields(self, config):
        return ["name", "campaign_type", "discount_type", "discount_value", "discount_product_id"]
