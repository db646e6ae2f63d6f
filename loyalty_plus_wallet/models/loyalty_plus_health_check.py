from datetime import UTC, datetime, timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.loyalty_plus.models.loyalty_plus_health_check import RATE_WINDOW

from ..tools.certificates import CredentialError, load_certificate

FAILING_LISTED = 20  # failing cards named in a check


class LoyaltyPlusHealthCheck(models.Model):
    """The wallet's checks: how many pass updates fail, and when the merchants' credentials expire."""

    _inherit = "loyalty_plus.health.check"

    def action_open_failing_wallet_passes(self):
        """The passes of the check's merchant whose latest update failed, with their errors."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus_wallet.loyalty_plus_wallet_pass_action")
        action["domain"] = [("company_id", "child_of", self.company_id.ids), ("failure_count", ">", 0)]
        action["context"] = {"search_default_failing": 1}
        return action

    @api.model
    def _get_measures(self, merchants, platform=True):
        measures = super()._get_measures(merchants, platform=platform)
        if merchants:
            thresholds = self._get_thresholds()
            now = fields.Datetime.now()
            measures += self._measure_wallet_sync(merchants, thresholds, now)
            measures += self._measure_wallet_credentials(merchants, thresholds, now)
        return measures

    @api.model
    def _measure_wallet_sync(self, merchants, thresholds, now):
        """Per merchant with passes: the passes whose latest update failed against those brought up
        to date in the last 24 hours."""
        self.env["loyalty_plus.wallet_pass"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT SPLIT_PART(company.parent_path, '/', 1)::int,
                          COUNT(*) FILTER (WHERE COALESCE(pass.failure_count, 0) > 0),
                          COUNT(*) FILTER (WHERE COALESCE(pass.failure_count, 0) = 0 AND pass.last_push_date >= %s),
                          (ARRAY_AGG(pass.serial_number || ': ' || COALESCE(pass.last_error, '')
                                     ORDER BY pass.failure_count DESC, pass.id)
                           FILTER (WHERE COALESCE(pass.failure_count, 0) > 0))[1:%s]
                     FROM loyalty_plus_wallet_pass pass
                     JOIN res_company company ON company.id = pass.company_id
                    WHERE SPLIT_PART(company.parent_path, '/', 1)::int = ANY(%s)
                 GROUP BY 1""",
                now - timedelta(hours=RATE_WINDOW),
                FAILING_LISTED,
                merchants.ids,
            )
        )
        limit = thresholds["wallet_failure_percent"]
        measures = []
        for merchant_id, failing, updated, examples in self.env.cr.fetchall():
            total = failing + updated
            rate = 100.0 * failing / total if total else 0.0
            measures.append(
                {
                    "key": "wallet_sync",
                    "category": "wallet_sync",
                    "name": self.env._("Wallet updates"),
                    "company_id": merchant_id,
                    "state": "amber" if rate > limit else "green",
                    "value": round(rate, 2),
                    "threshold": self.env._("%(percent)s %% of the passes failing", percent=limit),
                    "message": self.env._(
                        "%(failing)s passes failing, %(updated)s brought up to date in the last %(hours)s hours.",
                        failing=failing,
                        updated=updated,
                        hours=RATE_WINDOW,
                    ),
                    "metrics": {
                        "wallet_sync_failure_percent": round(rate, 2),
                        "wallet_passes_failing": failing,
                        "wallet_passes_updated": updated,
                    },
                    "failing_cards": examples or [],
                }
            )
        return measures

    @api.model
    def _get_wallet_credential_expiries(self, merchant):
        """``[(kind, label, expiry datetime)]`` of the merchant's wallet credentials that carry one."""
        merchant_sudo = merchant.sudo()
        expiries = []
        for kind, label, pem in (
            (
                "apple_certificate",
                self.env._("Apple Pass Type ID certificate"),
                merchant_sudo.loyalty_plus_wallet_apple_certificate,
            ),
            (
                "apple_wwdr",
                self.env._("Apple WWDR intermediate certificate"),
                merchant_sudo.loyalty_plus_wallet_apple_wwdr,
            ),
        ):
            if not pem:
                continue
            try:
                expiry = load_certificate(pem).not_valid_after_utc.replace(tzinfo=None)
            except CredentialError:
                continue
            expiries.append((kind, label, expiry))
        if (
            merchant_sudo.loyalty_plus_wallet_google_service_account
            and merchant_sudo.loyalty_plus_wallet_google_key_expiry
        ):
            expiries.append(
                (
                    "google_service_account",
                    self.env._("Google service-account key"),
                    datetime.combine(merchant_sudo.loyalty_plus_wallet_google_key_expiry, datetime.min.time()),
                )
            )
        return expiries

    @api.model
    def _measure_wallet_credentials(self, merchants, thresholds, now):
        days_limit = thresholds["credential_days"]
        measures = []
        for merchant in merchants:
            for kind, label, expiry in self._get_wallet_credential_expiries(merchant):
                days = (expiry - now).total_seconds() / 86400
                if days <= 0:
                    state = "red"
                    message = self.env._("%(credential)s expired on %(date)s.", credential=label, date=expiry.date())
                else:
                    state = "amber" if days < days_limit else "green"
                    message = self.env._(
                        "%(credential)s expires on %(date)s (in %(days)s days).",
                        credential=label,
                        date=expiry.date(),
                        days=int(days),
                    )
                measures.append(
                    {
                        "key": f"credential:{kind}",
                        "category": "credential",
                        "name": label,
                        "company_id": merchant.id,
                        "state": state,
                        "value": round(days, 2),
                        "threshold": self.env._("%(days)s days before expiry", days=days_limit),
                        "message": message,
                        "metrics": {
                            "credential_expiry_timestamp_seconds": expiry.replace(tzinfo=UTC).timestamp(),
                            "credential_days_left": round(days, 2),
                        },
                    }
                )
        return measures
