from odoo import fields, models


class LoyaltyPlusCard(models.Model):
    """Queue the outgoing webhooks of the merchant's integrations after every ledger movement."""

    _inherit = "loyalty_plus.card"  # pylint: disable=consider-merging-classes-inherited

    def _on_balance_changed(self):
        merchant_ids = self.env["loyalty_plus.integration"]._get_webhook_merchant_ids()
        cards = self.filtered(lambda card: card.company_id.id in merchant_ids) if merchant_ids else self.browse()
        # "reward ready" is the moment the lifecycle's flags go up: read them before and after
        before = {card.id: (card.sudo().stamp_reward_notified, card.sudo().points_reward_notified) for card in cards}
        super()._on_balance_changed()
        for card in cards:
            card._enqueue_webhooks(before[card.id])

    def _enqueue_webhooks(self, notified_before):
        self.ensure_one()
        card_sudo = self.sudo()
        integrations_sudo = (
            self.env["loyalty_plus.integration"]
            .sudo()
            .search([("company_id", "=", card_sudo.company_id.id), ("webhook_url", "!=", False)])
        )
        if not integrations_sudo:
            return
        Delivery = self.env["loyalty_plus.webhook_delivery"]
        summary = self._get_summary()
        transaction = (
            self.env["loyalty_plus.transaction"].sudo().search([("card_id", "=", self.id)], limit=1, order="id desc")
        )
        if transaction:
            Delivery._enqueue(
                integrations_sudo,
                "transaction.created",
                {"transaction": self._get_webhook_transaction_data(transaction), "card": summary},
            )
        Delivery._enqueue(integrations_sudo, "card.updated", {"card": summary})
        card_sudo.invalidate_recordset(["stamp_reward_notified", "points_reward_notified"])
        stamps_before, points_before = notified_before
        ready = []
        if card_sudo.stamp_reward_notified and not stamps_before:
            ready.append("stamps")
        if card_sudo.points_reward_notified and not points_before:
            ready.append("points")
        if ready and card_sudo.active:
            Delivery._enqueue(integrations_sudo, "reward.ready", {"card": summary, "ready": ready})

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
