from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    loyalty_plus_cross_location = fields.Boolean(
        related="company_id.root_id.loyalty_plus_cross_location", readonly=False
    )
    loyalty_plus_self_enrollment = fields.Boolean(
        related="company_id.root_id.loyalty_plus_self_enrollment", readonly=False
    )
    loyalty_plus_plan_id = fields.Many2one(related="company_id.root_id.loyalty_plus_plan_id")
    loyalty_plus_void_policy = fields.Selection(related="company_id.root_id.loyalty_plus_void_policy", readonly=False)
    loyalty_plus_pin_max_attempts = fields.Integer(
        related="company_id.root_id.loyalty_plus_pin_max_attempts", readonly=False
    )
    loyalty_plus_pin_lock_minutes = fields.Integer(
        related="company_id.root_id.loyalty_plus_pin_lock_minutes", readonly=False
    )
    # health thresholds (seed 003 §8.4), for the Loyalty administrators
    loyalty_plus_health_expiry_hours = fields.Integer(
        string="Expiry job: hours without success", config_parameter="loyalty_plus.health.expiry_hours", default=26
    )
    loyalty_plus_health_wallet_failure_percent = fields.Float(
        string="Wallet updates failing (%)", config_parameter="loyalty_plus.health.wallet_failure_percent", default=5.0
    )
    loyalty_plus_health_mail_failure_percent = fields.Float(
        string="Emails failed or bounced (%)", config_parameter="loyalty_plus.health.mail_failure_percent", default=1.0
    )
    loyalty_plus_health_credential_days = fields.Integer(
        string="Credential expiry warning (days)", config_parameter="loyalty_plus.health.credential_days", default=30
    )
    loyalty_plus_health_rate_limit_per_minute = fields.Integer(
        string="Rate-limit refusals a minute for one shop",
        config_parameter="loyalty_plus.health.rate_limit_per_minute",
        default=100,
    )
