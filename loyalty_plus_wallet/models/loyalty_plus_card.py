from odoo import api, models
from odoo.tools import SQL

from .loyalty_plus_wallet_pass import ROUTE_PREFIX


class LoyaltyPlusCard(models.Model):
    _inherit = "loyalty_plus.card"

    def write(self, vals):
        res = super().write(vals)
        # the customer's name is on the pass: an anonymized member's pass must lose it too
        if "active" in vals or "partner_id" in vals:
            self._on_wallet_state_changed()
        return res

    def _on_balance_changed(self, transactions):
        super()._on_balance_changed(transactions)
        self._on_wallet_state_changed()

    def _on_member_changed(self):
        super()._on_member_changed()
        self._on_wallet_state_changed()

    def _on_tiers_reviewed(self):
        super()._on_tiers_reviewed()
        self.env["loyalty_plus.wallet_pass"]._queue_updates_sql(SQL("SELECT unnest(%s::int[])", self.ids))

    def _on_wallet_state_changed(self):
        """Stamps, points, tier or state moved: queue an update of the passes already in wallets."""
        passes = self.env["loyalty_plus.wallet_pass"].sudo().search([("card_id", "in", self.ids)])
        passes._mark_changed()

    @api.model
    def _on_points_expired(self, card_ids):
        super()._on_points_expired(card_ids)
        self.env["loyalty_plus.wallet_pass"]._queue_updates_sql(SQL("SELECT unnest(%s::int[])", card_ids))

    def _get_wallet_links(self):
        links = super()._get_wallet_links()
        self.ensure_one()
        card = self.sudo()
        merchant = card.company_id
        if not card.active:
            return links
        signature = self.env["loyalty_plus.wallet_pass"]._link_signature(card.card_number)
        if merchant._loyalty_plus_wallet_google_ready():
            links.append(
                {
                    "provider": "google",
                    "label": self.env._("Add to Google Wallet"),
                    "url": f"{ROUTE_PREFIX}/google/{card.card_number}/{signature}",
                }
            )
        if merchant._loyalty_plus_wallet_apple_ready():
            links.append(
                {
                    "provider": "apple",
                    "label": self.env._("Add to Apple Wallet"),
                    "url": f"{ROUTE_PREFIX}/apple/pass/{card.card_number}/{signature}.pkpass",
                }
            )
        return links
