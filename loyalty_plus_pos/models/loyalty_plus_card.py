from odoo import api, models
from odoo.exceptions import UserError
from odoo.fields import Domain

SEARCH_LIMIT = 8


class LoyaltyPlusCard(models.Model):
    _name = "loyalty_plus.card"
    _inherit = ["loyalty_plus.card", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        # cards are fetched one at a time when a cashier finds a member, never at boot
        return False

    @api.model
    def _load_pos_data_fields(self, config):
        return ["card_number", "partner_id"]

    # ------------------------------------------------------------------
    # POS entry points (read paths)
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def pos_search(self, query, config_id):
        """Cards matching a scan, a typed number, an email, a phone or a name, as summaries.

        A card that the till's shop may not use (cross-location off, issued elsewhere) is refused
        with the reason, so the cashier knows at once instead of at the first operation.
        """
        shop = self._get_pos_shop(config_id)
        query = (query or "").strip()
        if len(query) < 2:
            raise UserError(self.env._("Type at least two characters to search."))
        card = self._find(query, shop)
        if not card:
            card = self.search(
                Domain("company_id", "=", shop.root_id.id) & Domain("partner_id.name", "ilike", query),
                limit=SEARCH_LIMIT,
            )
        if len(card) == 1:
            card._check_operable(shop)
            return [card._get_summary()]
        # several name matches: the ones this shop may use
        usable = card.filtered(lambda c: c.cross_location or c.shop_id == shop)
        return [c._get_summary() for c in usable]

    @api.model
    @api.readonly
    def pos_card_for_partner(self, partner_id, config_id):
        """The card of the customer selected on the order, or False."""
        shop = self._get_pos_shop(config_id)
        cards = self.search(
            Domain("company_id", "=", shop.root_id.id) & Domain("partner_id", "=", int(partner_id)), limit=2
        )
        card = cards.filtered(lambda c: c.cross_location or c.shop_id == shop)[:1]
        return card._get_summary() if card else False

    @api.model
    def pos_enroll(self, config_id, name, email, phone=None, birthday=None, marketing_consent=False):
        """Enroll at the till; returns the card summary and the customer to select."""
        shop = self._get_pos_shop(config_id)
        summary = self.enroll(
            name,
            email,
            phone=phone or None,
            birthday=birthday or None,
            shop_id=shop.id,
            marketing_consent=marketing_consent,
        )
        card = self.browse(summary["id"])
        card._check_operable(shop)
        return dict(card._get_summary(), created=summary["created"])

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _get_pos_shop(self, config_id):
        """The shop of a till: its company (the merchant or a branch)."""
        config = self.env["pos.config"].browse(int(config_id)).exists()
        if not config:
            raise UserError(self.env._("Unknown point of sale."))
        config.check_access("read")
        return self._get_shop(config.company_id.id)

    def _get_summary(self):
        summary = super()._get_summary()
        summary["partner_name"] = self.sudo().partner_id.name
        return summary

    def _prepare_transaction_vals(self, *args, **kwargs):
        vals = super()._prepare_transaction_vals(*args, **kwargs)
        if order_id := self.env.context.get("loyalty_plus_pos_order_id"):
            vals["pos_order_id"] = order_id
        return vals
