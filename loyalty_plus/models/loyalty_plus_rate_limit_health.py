from odoo import api, models

from ..exceptions import LoyaltyPlusRefusal


class LoyaltyPlusRateLimit(models.Model):
    """Every refusal of a rate limit counted per shop and entry point, for the health checks."""

    _inherit = "loyalty_plus.rate_limit"

    @api.model
    def _check(self, action):
        try:
            return super()._check(action)
        except LoyaltyPlusRefusal as refusal:
            if refusal.code == "rate_limited":
                self.env["loyalty_plus.rate_limit.refusal"]._count(self.env.company, action)
            raise

    @api.model
    def _check_enrollment(self, ip_address=None, email=None, device=None):
        try:
            return super()._check_enrollment(ip_address=ip_address, email=email, device=device)
        except LoyaltyPlusRefusal as refusal:
            if refusal.code == "rate_limited":
                self.env["loyalty_plus.rate_limit.refusal"]._count(self.env.company, "web_enroll")
            raise
