from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    loyalty_plus_cross_location = fields.Boolean(
        related="company_id.root_id.loyalty_plus_cross_location", readonly=False
    )
    loyalty_plus_self_enrollment = fields.Boolean(
        related="company_id.root_id.loyalty_plus_self_enrollment", readonly=False
    )
    loyalty_plus_void_policy = fields.Selection(related="company_id.root_id.loyalty_plus_void_policy", readonly=False)
    loyalty_plus_pin_max_attempts = fields.Integer(
        related="company_id.root_id.loyalty_plus_pin_max_attempts", readonly=False
    )
    loyalty_plus_pin_lock_minutes = fields.Integer(
        related="company_id.root_id.loyalty_plus_pin_lock_minutes", readonly=False
    )
