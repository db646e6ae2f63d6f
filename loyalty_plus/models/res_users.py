from odoo import fields, models
from odoo.exceptions import AccessDenied


class ResUsers(models.Model):
    _inherit = "res.users"

    # the integration a user calls the API for: the merchant's managers read its keys through it
    loyalty_plus_integration_ids = fields.One2many(
        "loyalty_plus.integration", "user_id", string="Loyalty+ integration", readonly=True
    )

    def _check_credentials(self, credential, env):
        # An integration's user works only through the Loyalty+ API, with its API key as a bearer
        # token (checked by res.users.apikeys, not here). Accepting a password or that same key here
        # would open a web session or the legacy XML-RPC/JSON-RPC endpoints, where every model the
        # user may read or write is reachable and the integration's allowed operations, rate limit
        # and idempotency keys do not apply.
        if self.env.uid in self.env["loyalty_plus.integration"]._get_api_user_ids():
            raise AccessDenied()
        return super()._check_credentials(credential, env)
