import logging

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

_logger = logging.getLogger(__name__)


class PosOrder(models.Model):
    """Campaigns at the till: the ones running now for the till's shop, and discount promotions
    checked by the engine before the till adds their line, then recorded (caps counted) when the
    paid order syncs. The engine decides; the till only shows and builds the line."""

    _inherit = "pos.order"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Till calls
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def lp_active_campaigns(self, config_id, card_id=None, lines=None):
        """The campaigns running now in the till's shop (for the card's tier when a card is on the
        order), as the till lists them. With a card and the order's ``lines`` (see the engine's
        ``_compute_earnings``), a discount promotion says whether it applies to this order now
        (``applicable``, else ``reason``)."""
        shop = self.env["loyalty_plus.card"]._lp_get_shop(config_id)
        card = self._lp_get_order_card(card_id)
        if card:
            card._check_operable(shop)
            program = card.sudo().program_id
        else:
            program = self.env["loyalty_plus.program"]._get_for_shop(shop)
        if not program:
            return []
        engine_lines = None
        if card and lines is not None:
            engine_lines = program._normalize_lines(lines, currency=self._lp_till_currency(config_id))
        campaigns = program.sudo()._get_active_campaigns(shop, card=card or None)
        return [self._lp_campaign_values(campaign, card, engine_lines, shop) for campaign in campaigns]

    @api.model
    @api.readonly
    def lp_check_promotion(self, config_id, card_id, campaign_id, lines):
        """What the discount promotion ``campaign_id`` gives on an order of ``lines`` for the
        member of ``card_id`` (the engine's ``_check_promotion`` values), else its refusal. Asked
        before the till adds the promotion's line, and again before payment."""
        shop = self.env["loyalty_plus.card"]._lp_get_shop(config_id)
        card = self._lp_get_order_card(card_id)
        if not card:
            raise LoyaltyPlusRefusal(
                "promotion_not_applicable", self.env._("A promotion is for members: find the customer's card first.")
            )
        card._check_operable(shop)
        campaign = self._lp_get_campaign(campaign_id)
        program = card.sudo().program_id
        return campaign._check_promotion(
            card, program._normalize_lines(lines, currency=self._lp_till_currency(config_id)), shop
        )

    # ------------------------------------------------------------------
    # Settlement: each promotion line is recorded once on the member's card
    # ------------------------------------------------------------------

    def _lp_settle(self):
        super()._lp_settle()
        for order in self:
            to_record = order.lines.filtered(lambda ln: ln.lp_campaign_id and ln.qty > 0 and not ln.lp_transaction_id)
            if not to_record:
                continue
            notes = order.with_context(lp_pos_order_id=order.id)._lp_use_promotions(to_record)
            vals = {"lp_message": "\n".join(filter(None, [order.lp_message, *notes])) or False}
            card = order.lp_card_id or to_record.lp_card_id[:1]
            if card:
                # the receipt names the promotions among the order's campaigns
                vals.update(order._lp_get_card_values(card))
            order.write(vals)

    def _lp_use_promotions(self, promotion_lines):
        """Record the promotions of ``promotion_lines`` on the member's card (the engine counts
        their caps); a refusal leaves a note and the sale stands, as with rewards."""
        self.ensure_one()
        notes = []
        shop = self.company_id
        for line in promotion_lines:
            card = self.lp_card_id or line.lp_card_id
            campaign = line.lp_campaign_id
            if not card:
                notes.append(
                    self.env._("Promotion %(promotion)s without a loyalty card: not recorded.", promotion=campaign.name)
                )
                continue
            try:
                with self.env.cr.savepoint():
                    engine_lines = self._lp_promotion_lines(card)
                    line.lp_transaction_id = card._use_promotion(
                        campaign, shop, self.uuid, engine_lines, now=self._lp_sale_time()
                    )
            except (UserError, AccessError, ValidationError) as error:
                _logger.info("Loyalty+ promotion of order %s refused: %s", self.name, error.args[0])
                notes.append(
                    self.env._(
                        "Promotion %(promotion)s not recorded: %(reason)s",
                        promotion=campaign.name,
                        reason=error.args[0],
                    )
                )
        return notes

    def _lp_line_allowed_discount(self, line, base):
        if line.lp_campaign_id:
            campaign = line.lp_campaign_id.sudo()
            if campaign.discount_type == "percent":
                return base * campaign.discount_value / 100
            if campaign.discount_type == "fixed":
                return min(campaign.discount_value, base)
            return 0.0  # a free item is the item at no price
        return super()._lp_line_allowed_discount(line, base)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _lp_promotion_lines(self, card):
        """The order's sold lines as the engine reads them, at their full price: a promotion's
        conditions (minimum spend) are met before any discount, as the till asked."""
        goods, _share = self._lp_goods_lines()
        return self._lp_engine_lines(goods, 1.0, card.sudo().program_id, self.currency_id)

    @api.model
    def _lp_till_currency(self, config_id):
        return self.env["pos.config"].browse(int(config_id)).currency_id

    @api.model
    def _lp_get_campaign(self, campaign_id):
        Campaign = self.env["loyalty_plus.campaign"]
        try:
            campaign = Campaign.browse(int(campaign_id)).exists()
        except (TypeError, ValueError):
            campaign = Campaign
        if not campaign:
            raise LoyaltyPlusRefusal("promotion_not_applicable", self.env._("This promotion no longer exists."))
        return campaign

    @api.model
    def _lp_campaign_values(self, campaign, card, engine_lines, shop):
        """What the till shows of a running campaign, and what it needs to add a promotion."""
        campaign = campaign.sudo()
        discount = campaign.campaign_type == "discount"
        values = {
            "id": campaign.id,
            "name": campaign.name,
            "campaign_type": campaign.campaign_type,
            "summary": campaign._get_summary_label(),
            "discount_type": discount and campaign.discount_type,
            "discount_value": discount and campaign.discount_value,
            "discount_product_id": discount and campaign.discount_product_id.id,
            "applicable": False,
            "reason": False,
        }
        if discount and card and engine_lines is not None:
            try:
                campaign.with_env(self.env)._check_promotion(card, engine_lines, shop)
                values["applicable"] = True
            except LoyaltyPlusRefusal as refusal:
                values["reason"] = refusal.args[0]
        return values
