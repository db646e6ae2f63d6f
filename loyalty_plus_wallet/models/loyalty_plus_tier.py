from odoo import models
from odoo.tools import SQL


class LoyaltyPlusTier(models.Model):
    _inherit = "loyalty_plus.tier"

    def write(self, vals):
        res = super().write(vals)
        # the tier's name is on the passes of its members
        if "name" in vals and self:
            self.env["loyalty_plus.wallet_pass"]._queue_updates_sql(
                SQL("SELECT id FROM loyalty_plus_card WHERE tier_id = ANY(%s)", self.ids)
            )
        return res
