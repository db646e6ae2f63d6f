from odoo import api, fields, models


class LoyaltyPlusProgram(models.Model):
    _name = "loyalty_plus.program"
    _inherit = ["loyalty_plus.program", "pos.load.mixin"]

    # what a full stamp card gives at the till: the POS adds it to the order for free
    stamps_reward_product_id = fields.Many2one(
        "product.product",
        string="Stamp reward product",
        check_company=True,
        help="The product a full stamp card gives at the point of sale. Empty: the till adds a free line "
        "named after the stamp reward and the cashier hands the item over.",
    )

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
            "stamps_reward_product_id",
            "points_per_euro",
            "minimum_purchase",
            "minimum_redemption_points",
            "require_staff_pin",
            "primary_color",
            "secondary_color",
            "terms_url",
        ]
