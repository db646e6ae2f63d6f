import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

# computed by the server when the order syncs; whatever a browser sends for them is dropped
SERVER_FIELDS = ("lp_points_earned", "lp_points_redeemed", "lp_points_voided", "lp_points_balance", "lp_message")


class PosOrder(models.Model):
    _inherit = "pos.order"

    lp_card_id = fields.Many2one("loyalty_plus.card", string="Loyalty+ card", index="btree_not_null", readonly=True)
    lp_points_earned = fields.Integer(string="Points earned", readonly=True, copy=False)
    lp_points_redeemed = fields.Integer(string="Points spent", readonly=True, copy=False)
    lp_points_voided = fields.Integer(string="Points voided", readonly=True, copy=False)
    lp_points_balance = fields.Integer(string="Points balance after", readonly=True, copy=False)
    lp_message = fields.Char(string="Loyalty+ note", readonly=True, copy=False)
    lp_transaction_ids = fields.One2many("loyalty_plus.transaction", "pos_order_id", string="Loyalty+ ledger")

    @api.model
    def _load_pos_data_fields(self, config):
        fields_list = super()._load_pos_data_fields(config)
        if fields_list:
            fields_list = [*fields_list, "lp_card_id", *SERVER_FIELDS]
        return fields_list

    @api.model
    def _process_order(self, order, existing_order):
        for name in (*SERVER_FIELDS, "lp_transaction_ids"):
            order.pop(name, None)
        return super()._process_order(order, existing_order)

    def _process_saved_order(self, draft):
        order_id = super()._process_saved_order(draft)
        if not draft and self.state in ("paid", "done", "invoiced"):
            self._loyalty_plus_settle()
        return order_id

    # ------------------------------------------------------------------
    # Checks the till asks before payment
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def lp_check_redemptions(self, config_id, card_id, reward_ids):
        """Can the card still pay these rewards? Asked before payment, so that a balance spent
        at another till is known while the customer is still there."""
        Card = self.env["loyalty_plus.card"]
        shop = Card._get_pos_shop(config_id)
        card = Card.browse(int(card_id)).exists()
        if not card:
            return {"ok": False, "message": self.env._("This loyalty card no longer exists.")}
        try:
            card._check_operable(shop)
        except (UserError, AccessError) as error:
            return {"ok": False, "message": error.args[0]}
        rewards = self.env["loyalty_plus.reward"].browse([int(r) for r in reward_ids]).exists()
        card_sudo = card.sudo()
        program = card_sudo.program_id
        cost = sum(rewards.mapped("points_cost"))
        today = fields.Date.context_today(self)
        for reward in rewards:
            if reward.program_id != program or not reward._is_available(today):
                return {
                    "ok": False,
                    "message": self.env._("The reward %(reward)s is not available now.", reward=reward.name),
                    "card": card._get_summary(),
                }
        if cost and card_sudo.points_balance < max(cost, program.minimum_redemption_points):
            return {
                "ok": False,
                "message": self.env._(
                    "The card now has %(balance)s points, the rewards on this order cost %(cost)s: "
                    "the balance changed since the card was read (spent at another till?). "
                    "Remove the reward line to go on.",
                    balance=card_sudo.points_balance,
                    cost=cost,
                ),
                "card": card._get_summary(),
            }
        return {"ok": True, "card": card._get_summary()}

    # ------------------------------------------------------------------
    # Settlement when a paid order reaches the server
    # ------------------------------------------------------------------

    def _loyalty_plus_settle(self):
        """Redeem the reward lines, earn the points of the purchase, void what a refund returns.

        Runs each time a paid order is processed; every step is idempotent (reward lines keep
        their ledger row, earning is unique per order reference, refunds remember their voids),
        so a replayed or late sync never counts twice. A refusal never loses the sale: it is
        written on the order and the order stays paid.
        """
        for order in self:
            shop = order.company_id
            ctx_order = order.with_context(loyalty_plus_pos_order_id=order.id)
            notes = []
            if order.lines.refunded_orderline_id:
                notes += ctx_order._loyalty_plus_void_refund(shop)
            if order.lp_card_id:
                notes += ctx_order._loyalty_plus_redeem_lines(shop)
                notes += ctx_order._loyalty_plus_earn(shop)
            card = order.lp_card_id or order.lines.refunded_orderline_id.order_id.lp_card_id[:1]
            vals = {"lp_message": "\n".join(notes) or False}
            if card:
                rows = self.env["loyalty_plus.transaction"].sudo().search([("pos_order_id", "=", order.id)])
                vals.update(
                    lp_points_earned=sum(
                        rows.filtered(lambda r: r.transaction_type == "points_earned").mapped("points_delta")
                    ),
                    lp_points_redeemed=-sum(
                        rows.filtered(lambda r: r.transaction_type == "points_redeemed").mapped("points_delta")
                    ),
                    lp_points_voided=-sum(
                        rows.filtered(lambda r: r.transaction_type in ("points_voided", "points_refunded")).mapped(
                            "points_delta"
                        )
                    ),
                    lp_points_balance=card.sudo().points_balance,
                )
            order.write(vals)

    def _loyalty_plus_redeem_lines(self, shop):
        notes = []
        card = self.lp_card_id
        for line in self.lines.filtered(lambda ln: ln.lp_reward_id and not ln.lp_transaction_id and ln.qty > 0):
            try:
                with self.env.cr.savepoint():
                    result = card.redeem_reward(line.lp_reward_id.id, shop_id=shop.id, order_ref=self.uuid)
                    if not result.get("ok"):
                        raise UserError(result.get("message"))
                    line.lp_transaction_id = result["transaction_id"]
                    self.env["loyalty_plus.redemption"].sudo().search(
                        [("transaction_id", "=", result["transaction_id"])]
                    ).consume(result["code"], used_ref=self.pos_reference or self.name)
            except (UserError, AccessError, ValidationError) as error:
                _logger.info("Loyalty+ reward of order %s refused: %s", self.name, error.args[0])
                notes.append(
                    self.env._(
                        "Reward %(reward)s not redeemed: %(reason)s",
                        reward=line.lp_reward_id.name,
                        reason=error.args[0],
                    )
                )
        return notes

    def _loyalty_plus_earn(self, shop):
        card = self.lp_card_id
        program = card.sudo().program_id
        amount = self.amount_total
        if not program.has_points or self.currency_id.compare_amounts(amount, 0) <= 0:
            return []
        if program.minimum_purchase and amount < program.minimum_purchase:
            return []
        try:
            with self.env.cr.savepoint():
                card.earn_points(amount, order_ref=self.uuid, shop_id=shop.id, currency_id=self.currency_id.id)
        except (UserError, AccessError, ValidationError) as error:
            _logger.info("Loyalty+ points of order %s refused: %s", self.name, error.args[0])
            return [self.env._("No points earned: %(reason)s", reason=error.args[0])]
        return []

    def _loyalty_plus_void_refund(self, shop):
        """A refund takes back the points its original order earned (in proportion to what is
        returned) and gives back the points of a returned reward.

        Manual voids follow the merchant's void policy; this one follows the refund, which the
        POS already authorised, so it runs with the engine's void internals."""
        notes = []
        Transaction = self.env["loyalty_plus.transaction"].sudo()
        refund_lines = self.lines.filtered("refunded_orderline_id")
        origin_order = refund_lines.refunded_orderline_id.order_id[:1]
        card = origin_order.lp_card_id.sudo()
        if not card or Transaction.search_count([("pos_order_id", "=", self.id)], limit=1):
            return notes
        card._lock()
        for line in refund_lines.filtered(lambda ln: ln.refunded_orderline_id.lp_transaction_id):
            origin = line.refunded_orderline_id.lp_transaction_id.sudo()
            if Transaction.search_count([("origin_transaction_id", "=", origin.id)], limit=1):
                continue
            self.env["loyalty_plus.redemption"].sudo().search([("transaction_id", "=", origin.id)])._cancel()
            card.with_env(self.env)._apply_ledger(
                "points_refunded",
                points=-origin.points_delta,
                shop=shop,
                origin=origin,
                reward=origin.reward_id,
                order_ref=self.uuid,
                lock=False,
            )
        earned = Transaction.search(
            Domain("pos_order_id", "=", origin_order.id) & Domain("transaction_type", "=", "points_earned"), limit=1
        )
        # what the returned quantities were paid on the original order (signs differ between
        # the till's refund orders and other callers: count from the original lines)
        returned = sum(
            abs(line.qty) / abs(line.refunded_orderline_id.qty) * abs(line.refunded_orderline_id.price_subtotal_incl)
            for line in refund_lines.filtered(lambda ln: not ln.lp_reward_id and ln.refunded_orderline_id.qty)
        )
        if earned and self.currency_id.compare_amounts(returned, 0) > 0:
            done = Transaction.search([("origin_transaction_id", "=", earned.id)])
            remaining = earned.amount + sum(done.mapped("amount"))
            amount = min(returned, remaining)
            if self.currency_id.compare_amounts(amount, 0) > 0:
                try:
                    with self.env.cr.savepoint():
                        earned.with_env(self.env)._void_points_earned(
                            card.with_env(self.env),
                            earned,
                            done,
                            amount,
                            self.env._("Refund %(order)s", order=self.pos_reference or self.name),
                            shop,
                        )
                except UserError as error:
                    notes.append(self.env._("Points not voided: %(reason)s", reason=error.args[0]))
        return notes
