from odoo import fields, models


class LoyaltyPlusCard(models.Model):
    """Queue the outgoing webhooks of the merchant's integrations after every ledger movement."""

    _inherit = "loyalty_plus.card"  # pylint: disable=consider-merging-classes-inherited

    def _on_balance_changed(self, transactions):
        merchant_ids = self.env["loyalty_plus.integration"]._get_webhook_merchant_ids()
        cards = self.filtered(lambda card: card.company_id.id in merchant_ids) if merchant_ids else self.browse()
        # "reward ready" is the moment the lifecycle's flags go up: read them before and after
        before = {card.id: (card.sudo().stamp_reward_notified, card.sudo().points_reward_notified) for card in cards}
        super()._on_balance_changed(transactions)
        Delivery = self.env["loyalty_plus.webhook_delivery"]
        for card in cards:
            Delivery._enqueue_for_transactions(transactions, before[card.id])

    def _get_webhook_transaction_data(self, transaction):
        """The ledger row as a webhook shows it (the fields of the API's history items)."""
        tx = transaction.sudo()
        return {
            "id": tx.id,
            "date": fields.Datetime.to_string(tx.create_date),
            "type": tx.transaction_type,
            "stamps": tx.stamps_delta,
            "points": tx.points_delta,
            "stamps_after": tx.stamps_after,
            "points_after": tx.points_after,
            "amount": tx.amount,
            "currency": tx.currency_id.name or None,
            "order_ref": tx.order_ref or None,
            "shop_id": tx.shop_id.id,
            "shop": tx.shop_id.name,
            "origin_transaction_id": tx.origin_transaction_id.id or None,
        }
