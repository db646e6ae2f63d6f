from odoo import fields, models
from odoo.exceptions import UserError

from .res_company import ADMIN_GROUPS, SECRET_GROUPS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    loyalty_plus_wallet_google_issuer_id = fields.Char(
        related="company_id.root_id.loyalty_plus_wallet_google_issuer_id", readonly=False, groups=ADMIN_GROUPS
    )
    loyalty_plus_wallet_google_service_account = fields.Text(
        related="company_id.root_id.loyalty_plus_wallet_google_service_account", readonly=False, groups=SECRET_GROUPS
    )
    loyalty_plus_wallet_google_key_expiry = fields.Date(
        related="company_id.root_id.loyalty_plus_wallet_google_key_expiry", readonly=False, groups=ADMIN_GROUPS
    )
    loyalty_plus_wallet_apple_pass_type_id = fields.Char(
        related="company_id.root_id.loyalty_plus_wallet_apple_pass_type_id", readonly=False, groups=ADMIN_GROUPS
    )
    loyalty_plus_wallet_apple_team_id = fields.Char(
        related="company_id.root_id.loyalty_plus_wallet_apple_team_id", readonly=False, groups=ADMIN_GROUPS
    )
    loyalty_plus_wallet_apple_certificate = fields.Text(
        related="company_id.root_id.loyalty_plus_wallet_apple_certificate", readonly=False, groups=ADMIN_GROUPS
    )
    loyalty_plus_wallet_apple_key = fields.Text(
        related="company_id.root_id.loyalty_plus_wallet_apple_key", readonly=False, groups=SECRET_GROUPS
    )
    loyalty_plus_wallet_apple_key_password = fields.Char(
        related="company_id.root_id.loyalty_plus_wallet_apple_key_password", readonly=False, groups=SECRET_GROUPS
    )
    loyalty_plus_wallet_apple_wwdr = fields.Text(
        related="company_id.root_id.loyalty_plus_wallet_apple_wwdr", readonly=False, groups=ADMIN_GROUPS
    )

    def action_loyalty_plus_wallet_test(self):
        """Check the merchant's wallet credentials for real: sign with the Apple ones, fetch a Google token."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise UserError(self.env._("Only administrators can test the wallet configuration."))
        merchant = self.company_id.root_id
        report, warnings = merchant._loyalty_plus_wallet_test_report()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Wallet configuration"),
                "message": "\n".join(warnings + report),
                "type": "warning" if warnings else "success",
                "sticky": bool(warnings),
            },
        }
