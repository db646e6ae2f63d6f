import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..tools.certificates import CredentialError, load_apple_credentials, load_certificate, load_private_key
from ..tools.google_wallet import (
    GOOGLE_API_URL,
    INTERACTIVE_TIMEOUT,
    GoogleWalletClient,
    GoogleWalletError,
    parse_service_account,
)
from ..tools.pkpass import sign_manifest
from ..tools.retry import TransientError

ADMIN_GROUPS = "base.group_system,loyalty_plus.group_loyalty_plus_admin"
SECRET_GROUPS = "base.group_system"
APPLE_FIELDS = (
    "loyalty_plus_wallet_apple_pass_type_id",
    "loyalty_plus_wallet_apple_team_id",
    "loyalty_plus_wallet_apple_certificate",
    "loyalty_plus_wallet_apple_key",
    "loyalty_plus_wallet_apple_key_password",
    "loyalty_plus_wallet_apple_wwdr",
)


class ResCompany(models.Model):
    _inherit = "res.company"

    # Wallet credentials live on the merchant (root company); only administrators read them.
    loyalty_plus_wallet_google_issuer_id = fields.Char(string="Google Wallet issuer ID", groups=ADMIN_GROUPS)
    loyalty_plus_wallet_google_service_account = fields.Text(
        string="Google service-account key (JSON)", groups=SECRET_GROUPS
    )
    loyalty_plus_wallet_google_key_expiry = fields.Date(
        string="Google service-account key expires on",
        groups=ADMIN_GROUPS,
        help="The key's expiry in Google Cloud (IAM > Service accounts > Keys), when it has one: the health "
        "checks warn before it.",
    )
    loyalty_plus_wallet_apple_pass_type_id = fields.Char(
        string="Apple pass type ID", groups=ADMIN_GROUPS, help="e.g. pass.lu.boulangerie.loyalty"
    )
    loyalty_plus_wallet_apple_team_id = fields.Char(string="Apple team ID", groups=ADMIN_GROUPS)
    loyalty_plus_wallet_apple_certificate = fields.Text(string="Pass Type ID certificate (PEM)", groups=ADMIN_GROUPS)
    loyalty_plus_wallet_apple_key = fields.Text(string="Pass Type ID private key (PEM)", groups=SECRET_GROUPS)
    loyalty_plus_wallet_apple_key_password = fields.Char(string="Private key password", groups=SECRET_GROUPS)
    loyalty_plus_wallet_apple_wwdr = fields.Text(
        string="Apple WWDR intermediate certificate (PEM)", groups=ADMIN_GROUPS
    )

    def write(self, vals):
        renamed = self.filtered(lambda company: company.name != vals["name"]) if "name" in vals else self.browse()
        res = super().write(vals)
        if renamed:
            renamed._loyalty_plus_wallet_on_renamed()
        return res

    @api.constrains("loyalty_plus_wallet_google_issuer_id", "loyalty_plus_wallet_google_service_account")
    def _check_loyalty_plus_wallet_google(self):
        for company in self.sudo():
            issuer = company.loyalty_plus_wallet_google_issuer_id
            if issuer and not re.fullmatch(r"\d{6,25}", issuer.strip()):
                raise ValidationError(self.env._("The Google Wallet issuer ID is a number, e.g. 3388000000012345678."))
            if company.loyalty_plus_wallet_google_service_account:
                company._loyalty_plus_wallet_parse_service_account()

    @api.constrains(*APPLE_FIELDS)
    def _check_loyalty_plus_wallet_apple(self):
        for company in self.sudo():
            team = company.loyalty_plus_wallet_apple_team_id
            if team and not re.fullmatch(r"[A-Z0-9]{10}", team.strip()):
                raise ValidationError(self.env._("The Apple team ID has 10 capital letters and digits."))
            pass_type = company.loyalty_plus_wallet_apple_pass_type_id
            if pass_type and not re.fullmatch(r"pass(\.[A-Za-z0-9-]+)+", pass_type.strip()):
                raise ValidationError(
                    self.env._("An Apple pass type ID looks like pass.com.example.loyalty, not %(id)s.", id=pass_type)
                )
            try:
                if company.loyalty_plus_wallet_apple_certificate:
                    load_certificate(company.loyalty_plus_wallet_apple_certificate, "certificate")
                if company.loyalty_plus_wallet_apple_wwdr:
                    load_certificate(company.loyalty_plus_wallet_apple_wwdr, "wwdr")
                if company.loyalty_plus_wallet_apple_key:
                    load_private_key(
                        company.loyalty_plus_wallet_apple_key, company.loyalty_plus_wallet_apple_key_password
                    )
                if (
                    company.loyalty_plus_wallet_apple_certificate
                    and company.loyalty_plus_wallet_apple_key
                    and company.loyalty_plus_wallet_apple_wwdr
                ):
                    company._loyalty_plus_wallet_apple_credentials()
            except CredentialError as error:
                raise ValidationError(company._loyalty_plus_wallet_credential_message(error)) from None

    def _loyalty_plus_wallet_on_renamed(self):
        """The merchant's name is on every pass (Apple organizationName, Google issuerName of the
        class): send the classes again and queue the passes of the merchant's cards."""
        programs_sudo = (
            self.env["loyalty_plus.program"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "in", self.ids)])
        )
        if programs_sudo:
            programs_sudo.wallet_google_class_outdated = True
        self.env["loyalty_plus.wallet_pass"]._queue_updates_sql(
            SQL("SELECT id FROM loyalty_plus_card WHERE company_id = ANY(%s)", self.ids)
        )

    def _loyalty_plus_wallet_credential_message(self, error):
        messages = {
            "certificate": self.env._("The Pass Type ID certificate is not a PEM certificate."),
            "wwdr": self.env._("The WWDR intermediate is not a PEM certificate."),
            "key": self.env._("The private key is not a PEM RSA or EC private key."),
            "key_password": self.env._("The private key cannot be opened with this password."),
            "key_mismatch": self.env._("The private key does not belong to the Pass Type ID certificate."),
            "wwdr_mismatch": self.env._(
                "The Pass Type ID certificate was not issued by this WWDR intermediate (issuer: %(issuer)s).",
                issuer=error.detail,
            ),
            "pass_type_id": self.env._(
                "The certificate was issued for the pass type ID %(cert_id)s, not %(id)s.",
                cert_id=error.detail or "?",
                id=self.loyalty_plus_wallet_apple_pass_type_id,
            ),
            "team_id": self.env._(
                "The certificate belongs to the Apple team %(cert_team)s, not %(team)s.",
                cert_team=error.detail or "?",
                team=self.loyalty_plus_wallet_apple_team_id,
            ),
        }
        return messages.get(error.code, str(error))

    def _loyalty_plus_wallet_parse_service_account(self):
        self.ensure_one()
        try:
            account = parse_service_account(self.sudo().loyalty_plus_wallet_google_service_account)
            load_private_key(account["private_key"])
        except (ValueError, CredentialError) as error:
            raise ValidationError(
                self.env._(
                    "The Google service-account key must be the JSON file downloaded from Google Cloud "
                    "(with client_email and private_key): %(error)s",
                    error=str(error),
                )
            ) from None
        return account

    def _loyalty_plus_wallet_apple_credentials(self):
        """``(certificate, key, wwdr)`` of the merchant, checked against each other and the pass type ID."""
        self.ensure_one()
        company = self.sudo()
        return load_apple_credentials(
            company.loyalty_plus_wallet_apple_certificate,
            company.loyalty_plus_wallet_apple_key,
            company.loyalty_plus_wallet_apple_key_password,
            company.loyalty_plus_wallet_apple_wwdr,
            pass_type_id=(company.loyalty_plus_wallet_apple_pass_type_id or "").strip(),
            team_id=(company.loyalty_plus_wallet_apple_team_id or "").strip(),
        )

    def _loyalty_plus_wallet_google_ready(self):
        company = self.sudo()
        return bool(company.loyalty_plus_wallet_google_issuer_id and company.loyalty_plus_wallet_google_service_account)

    def _loyalty_plus_wallet_apple_ready(self):
        company = self.sudo()
        return all(company[name] for name in APPLE_FIELDS if name != "loyalty_plus_wallet_apple_key_password")

    def _loyalty_plus_wallet_google_client(self, interactive=False):
        """A Google Wallet client for the merchant. ``interactive``: someone waits for the answer (a
        customer's save link), so one short try, no backoff that would hold the worker past its time
        limit; the cron keeps the patient retries."""
        self.ensure_one()
        company = self.sudo()
        params = self.env["ir.config_parameter"].sudo()
        options = {"retry_attempts": 0, "timeout": INTERACTIVE_TIMEOUT} if interactive else {}
        return GoogleWalletClient(
            company._loyalty_plus_wallet_parse_service_account(),
            company.loyalty_plus_wallet_google_issuer_id.strip(),
            api_url=params.get_param("loyalty_plus_wallet.google_api_url") or GOOGLE_API_URL,
            token_url=params.get_param("loyalty_plus_wallet.google_token_url") or None,
            retry_base_delay=self.env["loyalty_plus.wallet_pass"]._retry_base_delay(),
            **options,
        )

    def _loyalty_plus_wallet_test_report(self):
        """``(report, warnings)``: lines saying what works and what works only in part; raises a
        UserError naming the first thing that does not work."""
        self.ensure_one()
        report, warnings = [], []
        if not (self._loyalty_plus_wallet_google_ready() or self._loyalty_plus_wallet_apple_ready()):
            raise UserError(self.env._("Neither Google Wallet nor Apple Wallet is configured for %(m)s.", m=self.name))
        if self._loyalty_plus_wallet_apple_ready():
            try:
                certificate, key, wwdr = self._loyalty_plus_wallet_apple_credentials()
                sign_manifest(b"{}", certificate, key, wwdr)
            except CredentialError as error:
                raise UserError(self._loyalty_plus_wallet_credential_message(error)) from None
            report.append(
                self.env._(
                    "Apple Wallet: certificate valid until %(date)s; passes can be signed.",
                    date=certificate.not_valid_after_utc.date().isoformat(),
                )
            )
            base_url = self.get_base_url()
            if not base_url.startswith("https://"):
                warnings.append(
                    self.env._(
                        "Apple Wallet: %(url)s is not an https address: passes install but never update. "
                        "Serve Odoo over https and set its web base URL accordingly.",
                        url=base_url,
                    )
                )
        if self._loyalty_plus_wallet_google_ready():
            client = self._loyalty_plus_wallet_google_client(interactive=True)
            try:
                client.get_access_token(force=True)
            except (GoogleWalletError, TransientError) as error:
                raise UserError(
                    self.env._("Google Wallet refused the credentials: %(error)s", error=str(error))
                ) from None
            try:
                # a token only proves the key: the account must also be a user of this issuer
                client.list_classes()
            except (GoogleWalletError, TransientError) as error:
                if error.status in (403, 404):
                    raise UserError(
                        self.env._(
                            "The service account %(email)s may not issue passes for the Google Wallet issuer "
                            "%(issuer)s (HTTP %(status)s): check the issuer ID and add the service account as "
                            "a user of that issuer in the Google Pay & Wallet Console.",
                            email=client.account["client_email"],
                            issuer=client.issuer_id,
                            status=error.status,
                        )
                    ) from None
                raise UserError(
                    self.env._("Google Wallet refused the credentials: %(error)s", error=str(error))
                ) from None
            report.append(
                self.env._("Google Wallet: access token obtained for %(email)s.", email=client.account["client_email"])
            )
        return report, warnings
