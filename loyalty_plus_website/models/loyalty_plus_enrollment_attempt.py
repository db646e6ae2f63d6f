from datetime import timedelta

from odoo import api, fields, models


class LoyaltyPlusEnrollmentAttempt(models.Model):
    """One enrollment form submission, kept a day to rate-limit submissions per IP address."""

    _name = "loyalty_plus.enrollment_attempt"
    _description = "Loyalty+ enrollment attempt"
    _order = "id desc"
    _log_access = False

    ip_address = fields.Char(required=True)
    attempt_date = fields.Datetime(required=True, default=fields.Datetime.now)

    _ip_date_idx = models.Index("(ip_address, attempt_date)")

    @api.model
    def _get_rate_limit(self):
        """``(max submissions, window in minutes)`` from the system parameters."""
        params = self.env["ir.config_parameter"].sudo()
        limit = int(params.get_param("loyalty_plus_website.enroll_rate_limit", 10))
        minutes = int(params.get_param("loyalty_plus_website.enroll_rate_window_minutes", 10))
        return limit, minutes

    @api.model
    def _register_attempt(self, ip_address):
        """Record one submission from ``ip_address``; False when the address is over its limit."""
        limit, minutes = self._get_rate_limit()
        since = fields.Datetime.now() - timedelta(minutes=minutes)
        recent = self.sudo().search_count([("ip_address", "=", ip_address), ("attempt_date", ">=", since)], limit=limit)
        if recent >= limit:
            return False
        self.sudo().create({"ip_address": ip_address})
        return True

    @api.autovacuum
    def _gc_old_attempts(self):
        self.sudo().search([("attempt_date", "<", fields.Datetime.now() - timedelta(days=1))]).unlink()
