from odoo import fields, models


class LoyaltyPlusWebhookSecretShow(models.TransientModel):
    """Shows an integration's webhook secret once, the way Odoo shows a new API key."""

    _name = "loyalty_plus.webhook_secret.show"
    _description = "Loyalty+ webhook secret (shown once)"

    integration_id = fields.Many2one("loyalty_plus.integration", readonly=True, ondelete="cascade")
    secret = fields.Char(readonly=True)
