import secrets
from urllib.parse import urlsplit

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import SQL

from odoo.addons.base.models.res_users import check_identity

# The operations an integration may be allowed, as (field, operation) pairs.
OPERATION_FIELDS = {
    "lookup": "allow_lookup",
    "enroll": "allow_enroll",
    "earn": "allow_earn",
    "stamp": "allow_stamp",
    "redeem": "allow_redeem",
    "void": "allow_void",
    "history": "allow_history",
}

# The webhook events an integration may subscribe to, as (event, field) pairs.
WEBHOOK_EVENT_FIELDS = {
    "card.updated": "webhook_card_updated",
    "reward.ready": "webhook_reward_ready",
    "transaction.created": "webhook_transaction_created",
}
WEBHOOK_FIELDS = ("webhook_url", "active", "company_id", *WEBHOOK_EVENT_FIELDS.values())
# What every API call reads of its integration (cached per user, see _get_api_profile).
PROFILE_FIELDS = ("active", "user_id", "rate_limit_per_minute", "shop_ids", *OPERATION_FIELDS.values())


def _generate_webhook_secret():
    return secrets.token_hex(32)


class LoyaltyPlusIntegration(models.Model):
    """A system outside Odoo (a web shop, a kiosk, another vendor's till) that calls the
    Loyalty+ API for a merchant.

    It owns a dedicated internal user without password: Odoo's own API keys of that user are the
    integration's credentials, its companies are the shops it may act for, and the record rules
    of the merchant's data apply to it like to any cashier. That user reaches nothing but the
    operations of ``loyalty_plus.api`` (``ir.http`` refuses every other route to it, ``res.users``
    every login and legacy RPC call), so the operations it is not allowed, its rate limit and its
    idempotency keys cannot be bypassed through the engine's models.
    """

    _name = "loyalty_plus.integration"
    _description = "Loyalty+ API integration"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        string="Merchant",
        required=True,
        readonly=True,
        default=lambda self: self.env.company.root_id,
        domain=[("parent_id", "=", False)],
    )
    shop_ids = fields.Many2many(
        "res.company",
        "loyalty_plus_integration_shop_rel",
        "integration_id",
        "company_id",
        string="Shops",
        required=True,
        help="The shops this integration may act for: the merchant company and/or its branches.",
    )
    user_id = fields.Many2one("res.users", string="API user", readonly=True, copy=False, ondelete="restrict")
    api_key_ids = fields.One2many(related="user_id.api_key_ids", string="API keys")
    allow_lookup = fields.Boolean(string="Look up cards", default=True)
    allow_enroll = fields.Boolean(string="Enroll customers")
    allow_earn = fields.Boolean(string="Earn points", default=True)
    allow_stamp = fields.Boolean(string="Stamp cards")
    allow_redeem = fields.Boolean(string="Redeem rewards")
    allow_void = fields.Boolean(string="Void operations")
    allow_history = fields.Boolean(string="Read card history", default=True)
    rate_limit_per_minute = fields.Integer(
        string="Calls per minute",
        default=600,
        required=True,
        help="Calls beyond this number within a minute are answered with HTTP 429 and Retry-After "
        "(counted for the whole server, however many workers serve the calls).",
    )
    key_duration_days = fields.Selection(
        [("30", "1 Month"), ("90", "3 Months"), ("180", "6 Months"), ("365", "1 Year")],
        string="API key lifetime",
        default="90",
        required=True,
    )

    webhook_url = fields.Char(
        string="Webhook URL",
        help="Loyalty+ POSTs the chosen events to this HTTPS address, signed with the webhook secret.",
    )
    webhook_secret = fields.Char(
        default=lambda self: _generate_webhook_secret(),
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="Key of the HMAC-SHA256 signature of every webhook (header X-LoyaltyPlus-Signature). A manager "
        "sees it once (Show Secret) or replaces it (New Secret).",
    )
    webhook_secret_shown = fields.Boolean(
        string="Secret shown",
        readonly=True,
        copy=False,
        help="The webhook secret was shown once; to see one again, make a new one.",
    )
    webhook_card_updated = fields.Boolean(string="Card updated", default=True)
    webhook_reward_ready = fields.Boolean(string="Reward ready", default=True)
    webhook_transaction_created = fields.Boolean(string="Transaction created", default=True)
    webhook_delivery_ids = fields.One2many("loyalty_plus.webhook_delivery", "integration_id", string="Deliveries")
    webhook_delivery_count = fields.Integer(compute="_compute_webhook_delivery_count")

    _rate_limit_positive = models.Constraint(
        "CHECK (rate_limit_per_minute > 0)", "The rate limit must be at least one call per minute."
    )
    _webhook_secret_unique = models.UniqueIndex("(webhook_secret)", "Each integration has its own webhook secret.")

    def init(self):
        # When the column was added, the ORM gave every existing integration the same default
        # secret: each one gets its own (before the unique index is made).
        rows = self.env.execute_query(
            SQL(
                """SELECT id FROM loyalty_plus_integration
                    WHERE webhook_secret IS NULL OR webhook_secret = '' OR webhook_secret IN (
                          SELECT webhook_secret FROM loyalty_plus_integration
                           GROUP BY webhook_secret HAVING count(*) > 1)"""
            )
        )
        for (integration_id,) in rows:
            self.env.execute_query(
                SQL(
                    "UPDATE loyalty_plus_integration SET webhook_secret = %s, webhook_secret_shown = FALSE "
                    "WHERE id = %s",
                    _generate_webhook_secret(),
                    integration_id,
                )
            )

    @api.constrains("shop_ids", "company_id")
    def _check_shop_ids(self):
        for integration in self:
            if not integration.shop_ids:
                raise ValidationError(self.env._("An integration acts for at least one shop."))
            merchant = integration.company_id
            foreign = integration.shop_ids.filtered(lambda shop, merchant=merchant: shop.root_id != merchant)
            if foreign:
                raise ValidationError(
                    self.env._(
                        "%(shops)s are not shops of %(merchant)s.",
                        shops=", ".join(foreign.mapped("name")),
                        merchant=integration.company_id.name,
                    )
                )

    @api.constrains("webhook_url")
    def _check_webhook_url(self):
        for integration in self.filtered("webhook_url"):
            parts = urlsplit(integration.webhook_url.strip())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValidationError(
                    self.env._("The webhook URL %(url)s is not a valid http(s) address.", url=integration.webhook_url)
                )

    def _compute_webhook_delivery_count(self):
        counts = dict(
            self.env["loyalty_plus.webhook_delivery"]._read_group(
                [("integration_id", "in", self.ids)], ["integration_id"], ["__count"]
            )
        )
        for integration in self:
            integration.webhook_delivery_count = counts.get(integration, 0)

    @api.model
    @tools.ormcache()
    def _get_api_user_ids(self):
        """The users of all integrations, archived ones included (cached: ``ir.http`` asks at every
        request whether the caller is one of them)."""
        integrations_sudo = self.sudo().with_context(active_test=False).search([])
        return frozenset(integrations_sudo.user_id.ids)

    @api.model
    @tools.ormcache("uid")
    def _get_api_profile(self, uid):
        """What an API call of user ``uid`` needs of its integration, without a query per call:
        ``(integration id, calls per minute, allowed operations, shop ids)``, or None when ``uid``
        is no active integration's user (cached; cleared when an integration changes)."""
        integration_sudo = self.sudo().search_fetch(
            [("user_id", "=", uid)], ["rate_limit_per_minute", "shop_ids", *OPERATION_FIELDS.values()], limit=1
        )
        if not integration_sudo:
            return None
        allowed = frozenset(op for op, field in OPERATION_FIELDS.items() if integration_sudo[field])
        return (
            integration_sudo.id,
            integration_sudo.rate_limit_per_minute,
            allowed,
            tuple(integration_sudo.shop_ids.ids),
        )

    @api.model
    @tools.ormcache()
    def _get_webhook_merchant_ids(self):
        """The merchants having an active integration with a webhook URL (cached: it is asked at
        every ledger movement)."""
        integrations_sudo = self.sudo().search([("webhook_url", "!=", False)])
        return frozenset(integrations_sudo.company_id.ids)

    def _get_webhook_events(self):
        self.ensure_one()
        return [event for event, field in WEBHOOK_EVENT_FIELDS.items() if self[field]]

    def action_show_webhook_secret(self):
        """Backend button: the signing secret, shown once (like an API key)."""
        self.ensure_one()
        self.check_access("write")
        integration_sudo = self.sudo()
        if integration_sudo.webhook_secret_shown:
            raise UserError(self.env._("The webhook secret was already shown once: make a new one to see it."))
        integration_sudo.webhook_secret_shown = True
        return self._get_webhook_secret_action(integration_sudo.webhook_secret)

    def action_regenerate_webhook_secret(self):
        """A new signing secret, shown once: receivers must use it from the next delivery on."""
        self.ensure_one()
        self.check_access("write")
        secret = _generate_webhook_secret()
        self.sudo().write({"webhook_secret": secret, "webhook_secret_shown": True})
        return self._get_webhook_secret_action(secret)

    def _get_webhook_secret_action(self, secret):
        return {
            "type": "ir.actions.act_window",
            "res_model": "loyalty_plus.webhook_secret.show",
            "name": self.env._("Webhook Secret"),
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_secret": secret, "default_integration_id": self.id},
        }

    def action_view_webhook_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_webhook_delivery_action")
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"default_integration_id": self.id}
        return action

    @api.model_create_multi
    def create(self, vals_list):
        default_merchant = self.env.company.root_id
        merchants = self.env["res.company"].browse(
            {vals.get("company_id") or default_merchant.id for vals in vals_list}
        )
        for merchant in merchants:
            merchant._loyalty_plus_check_plan_feature("api")
        integrations = super().create(vals_list)
        for integration in integrations:
            # the manager chose shops among their own companies; the user is then made by the system
            integration.shop_ids.check_access("read")
            if not self.env.su and integration.shop_ids - self.env.user.company_ids:
                raise ValidationError(self.env._("You can only give an integration shops you work for."))
            integration.user_id = self.env["res.users"].sudo().create(integration._prepare_user_vals())
        # the new user must be held to the API at once (_get_api_user_ids), the webhook merchants may change
        self.env.registry.clear_cache()
        return integrations

    def write(self, vals):
        res = super().write(vals)
        if any(field in vals for field in (*WEBHOOK_FIELDS, *PROFILE_FIELDS)):
            self.env.registry.clear_cache()
        if "shop_ids" in vals:
            if not self.env.su and self.shop_ids - self.env.user.company_ids:
                raise ValidationError(self.env._("You can only give an integration shops you work for."))
            for integration in self:
                users_sudo = integration.user_id.sudo()
                users_sudo.write(
                    {
                        "company_ids": [Command.set(integration.shop_ids.ids)],
                        "company_id": integration.shop_ids[:1].id,
                    }
                )
        if "name" in vals:
            for integration in self:
                integration.user_id.sudo().name = integration._get_user_name()
        if "active" in vals:
            users_sudo = self.user_id.sudo()
            if vals["active"]:
                users_sudo.action_unarchive()
            else:
                # an archived user's keys are refused at once; the keys go as well so that
                # restoring the integration never brings an old key back to life
                users_sudo.api_key_ids._remove()
                users_sudo.action_archive()
        return res

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    def _get_user_name(self):
        return self.env._("API: %(name)s", name=self.name)

    def _prepare_user_vals(self):
        self.ensure_one()
        groups = (
            self.env.ref("base.group_user")
            | self.env.ref("loyalty_plus.group_loyalty_plus_cashier")
            | self.env.ref("api_doc.group_allow_doc")
        )
        return {
            "name": self._get_user_name(),
            "login": f"loyalty_plus_integration_{self.id}",
            "company_id": self.shop_ids[:1].id,
            "company_ids": [Command.set(self.shop_ids.ids)],
            "group_ids": [Command.set(groups.ids)],
            # no password is set: the user never logs in, it only calls with its API keys
        }

    def _check_operation_allowed(self, operation):
        """Whether this integration may run ``operation`` (a key of OPERATION_FIELDS)."""
        self.ensure_one()
        return bool(self[OPERATION_FIELDS[operation]])

    # ------------------------------------------------------------------
    # Keys: Odoo's own res.users.apikeys, generated for the integration's user
    # ------------------------------------------------------------------

    def _generate_api_key(self, name=None, duration_days=None):
        """Generate an API key of the integration user, expiring after ``duration_days``.

        The key is made by ``res.users.apikeys._generate`` as that user (Odoo stores only its
        hash); it is returned once and never again.
        """
        self.ensure_one()
        self.check_access("write")
        if not self.active:
            raise ValidationError(self.env._("Restore the integration before giving it a key."))
        self.company_id._loyalty_plus_check_plan_feature("api")
        days = int(duration_days or self.key_duration_days)
        description_sudo = (
            self.env["res.users.apikeys.description"]
            .with_user(self.user_id)
            .sudo()
            .create({"name": name or self.name, "duration": str(days)})
        )
        key = description_sudo.env["res.users.apikeys"]._generate(
            None, description_sudo.name, description_sudo.expiration_date
        )
        description_sudo.unlink()
        self.user_id.invalidate_recordset(["api_key_ids"])  # the key was inserted in SQL
        return key

    @check_identity
    def action_generate_api_key(self):
        """Backend button: a new key, shown once in Odoo's own "API Key Ready" dialog."""
        self.ensure_one()
        key = self._generate_api_key()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.users.apikeys.show",
            "name": self.env._("API Key Ready"),
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_key": key},
        }

    def action_revoke_api_keys(self):
        """Remove every key of the integration: the next call with any of them is refused."""
        self.check_access("write")
        self.user_id.sudo().api_key_ids._remove()
        return True
