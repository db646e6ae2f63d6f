import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import format_amount

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .pos_order_line import SERVER_LINE_FIELDS

_logger = logging.getLogger(__name__)

# refusals of the earning that leave an order without points and without a note: a purchase
# under the program's minimum, a program without points
SILENT_EARN_REFUSALS = {"below_minimum_purchase", "not_supported"}
# computed by the server when the order syncs; whatever a browser sends for them is dropped
SERVER_FIELDS = (
    "lp_points_earned",
    "lp_points_redeemed",
    "lp_points_voided",
    "lp_points_balance",
    "lp_stamps_redeemed",
    "lp_message",
)


class PosOrder(models.Model):
    _inherit = "pos.order"

    lp_card_id = fields.Many2one("loyalty_plus.card", string="Loyalty+ card", index="btree_not_null", readonly=True)
    lp_points_earned = fields.Integer(string="Points earned", readonly=True, copy=False)
    lp_points_redeemed = fields.Integer(string="Points spent", readonly=True, copy=False)
    lp_points_voided = fields.Integer(string="Points voided", readonly=True, copy=False)
    lp_points_balance = fields.Integer(string="Points balance after", readonly=True, copy=False)
    lp_stamps_redeemed = fields.Integer(string="Stamps spent", readonly=True, copy=False)
    lp_message = fields.Char(string="Loyalty+ note", readonly=True, copy=False)
    lp_transaction_ids = fields.One2many("loyalty_plus.transaction", "pos_order_id", string="Loyalty+ ledger")
    lp_transaction_count = fields.Integer(compute="_compute_lp_transaction_count", string="Loyalty+ ledger rows")

    def _compute_lp_transaction_count(self):
        # a count of the order's own rows, for whoever may read the order
        counts = dict(
            self.env["loyalty_plus.transaction"]
            .sudo()
            ._read_group([("pos_order_id", "in", self.ids)], groupby=["pos_order_id"], aggregates=["__count"])
        )
        for order in self:
            order.lp_transaction_count = counts.get(order._origin, 0)

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
        for command in order.get("lines") or []:
            if isinstance(command, (list, tuple)) and len(command) == 3 and isinstance(command[2], dict):
                for name in SERVER_LINE_FIELDS:
                    command[2].pop(name, None)
        return super()._process_order(order, existing_order)

    def _process_saved_order(self, draft):
        order_id = super()._process_saved_order(draft)
        if not draft and self.state in ("paid", "done", "invoiced"):
            self._lp_settle()
        return order_id

    def action_lp_view_transactions(self):
        """The ledger rows of this order (its points, rewards and their voids)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_transaction_action")
        action["domain"] = [("pos_order_id", "=", self.id)]
        action["context"] = {}
        return action

    def _lp_get_cashier_values(self):
        """Who rang the sale, for its ledger rows: the order's user, and the name the order gives
        its cashier (the pos_hr employee, when that module is installed, else the user)."""
        self.ensure_one()
        order_sudo = self.sudo()
        cashier = order_sudo.cashier if "cashier" in order_sudo._fields else False
        return {
            "user_id": order_sudo.user_id.id or self.env.uid,
            "pos_cashier": cashier or order_sudo.user_id.name or False,
        }

    # ------------------------------------------------------------------
    # Checks the till asks before payment
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def lp_check_redemptions(self, config_id, card_id, reward_ids, stamp_rewards=0, voucher_codes=None):
        """Can the card still pay these rewards (one id per reward unit) and ``stamp_rewards`` full
        stamp cards, and are the voucher codes still unused? Asked before payment (and when a
        reward is added), so that a balance or a code spent at another till is known while the
        customer is still there. Returns ``{"card": summary}`` (False without a card); a refusal
        about the card carries its fresh summary as ``card``."""
        Card = self.env["loyalty_plus.card"]
        shop = Card._lp_get_shop(config_id)
        card = self._lp_get_order_card(card_id)
        for code in voucher_codes or []:
            self._lp_find_voucher(code, shop, card)
        if not card:
            return {"card": False}
        card._check_operable(shop)
        rewards = self.env["loyalty_plus.reward"]
        for reward_id in reward_ids or []:
            reward = card._get_reward(reward_id)
            if not reward:
                raise card._reward_not_found()
            rewards += reward  # each unit costs its points: duplicates stay
        with card._lp_refusals_with_card():
            if rewards:
                card._check_can_pay_rewards(rewards)
            if stamp_rewards:
                card._check_stamp_rewards_ready(Card._lp_count(stamp_rewards))
        return {"card": card._get_summary()}

    @api.model
    @api.readonly
    def lp_read_voucher(self, config_id, code, card_id=None):
        """What a voucher code the customer brings gives, on an order of the member of ``card_id``
        (if any); nothing is used until the order is paid."""
        shop = self.env["loyalty_plus.card"]._lp_get_shop(config_id)
        return self._lp_voucher_values(self._lp_find_voucher(code, shop, self._lp_get_order_card(card_id)))

    @api.model
    def _lp_get_order_card(self, card_id):
        """The card ``card_id`` the till put on an order (an empty recordset without one), else
        ``card_not_found``."""
        Card = self.env["loyalty_plus.card"]
        if not card_id:
            return Card
        try:
            card = Card.browse(int(card_id)).exists()
        except (TypeError, ValueError):
            card = Card
        if not card:
            raise LoyaltyPlusRefusal("card_not_found", self.env._("This loyalty card no longer exists."))
        return card

    @api.model
    def _lp_find_voucher(self, code, shop, card=None):
        """The unused redemption of ``code`` in the merchant of ``shop`` that an order of ``card``
        may use, else a refusal: ``validation_error`` (no code), ``voucher_not_found``,
        ``voucher_not_usable``, ``voucher_of_other_member``."""
        return self.env["loyalty_plus.redemption"]._get_usable(code, shop._loyalty_plus_merchant(), card=card)

    @api.model
    def _lp_voucher_values(self, redemption):
        """How the till applies a code: an amount or a percentage off, a free product, or a plain
        line when the voucher is honoured by hand (``kind`` "note")."""
        redemption = redemption.sudo()
        reward = redemption.reward_id
        program = redemption.card_id.program_id
        values = {
            "code": redemption.code,
            "description": redemption.description or reward.name or program.stamps_reward_description,
            "kind": "note",
            "amount": 0.0,
            "percent": 0.0,
            "product_id": False,
        }
        if reward.reward_kind in ("amount", "voucher") and reward.discount_amount:
            values.update(kind="amount", amount=reward.discount_amount)
        elif reward.reward_kind in ("percent", "voucher") and reward.discount_percent:
            values.update(kind="percent", percent=reward.discount_percent)
        elif reward.product_id:
            values.update(kind="product", product_id=reward.product_id.id)
        elif (
            not reward
            and redemption.transaction_id.transaction_type == "stamp_redeemed"
            and program.stamps_reward_product_id
        ):
            values.update(kind="product", product_id=program.stamps_reward_product_id.id)
        return values

    # ------------------------------------------------------------------
    # Settlement when a paid order reaches the server
    # ------------------------------------------------------------------

    def _lp_settle(self):
        """Redeem the reward lines, earn the points of the purchase, void what a refund returns.

        Runs each time a paid order is processed, through the engine's private operations: an
        order sync is the till's, not a person's request, so it is never rate-limited (an offline
        till syncs a day of orders at once). Every step is idempotent (reward lines keep their
        ledger row, earning is unique per order reference, refunds remember their voids), so a
        replayed or late sync never counts twice. A refusal never loses the sale: it is written
        on the order and the order stays paid.
        """
        for order in self:
            shop = order.company_id
            order_ctx = order.with_context(lp_pos_order_id=order.id)
            notes = order_ctx._lp_check_line_values()
            if order.lines.refunded_orderline_id:
                notes += order_ctx._lp_void_refund(shop)
                order_ctx._lp_restore_vouchers()
            if order.lines.filtered("lp_voucher_code"):
                notes += order_ctx._lp_use_vouchers(shop)
            if order.lines.filtered(lambda ln: ln.lp_reward_id or ln.lp_stamp_reward):
                notes += order_ctx._lp_redeem_lines(shop)
            if order.lp_card_id:
                notes += order_ctx._lp_earn(shop)
            card = (
                order.lp_card_id
                or order.lines.lp_card_id[:1]
                or order.lines.refunded_orderline_id.order_id.lp_card_id[:1]
            )
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
                    lp_stamps_redeemed=-sum(
                        rows.filtered(lambda r: r.transaction_type == "stamp_redeemed").mapped("stamps_delta")
                    ),
                )
            order.write(vals)

    def _lp_check_line_values(self):
        """Flag the loyalty lines worth more than their reward gives.

        The till refuses to edit these lines; a line edited anyway (or a crafted order) is paid
        already, so the sale stands and its rewards are still paid for with points and codes
        (never a discount for free), while the note tells the manager what to check."""
        notes = []
        loyalty_lines = self.lines.filtered(lambda ln: ln.lp_reward_id or ln.lp_stamp_reward or ln.lp_voucher_code)
        base = max(sum((self.lines - loyalty_lines).mapped("price_subtotal_incl")), 0.0)
        for line in loyalty_lines.filtered(lambda ln: ln.qty > 0):
            name = line.full_product_name or line.product_id.display_name
            if line.lp_voucher_code and line.qty != 1:
                notes.append(
                    self.env._(
                        "Voucher %(code)s is on the order %(qty)s times: a code is used once. Check this order.",
                        code=line.lp_voucher_code,
                        qty=line.qty,
                    )
                )
            allowed = self._lp_line_allowed_discount(line, base)
            given = -line.price_subtotal_incl
            if self.currency_id.compare_amounts(given, allowed) > 0:
                notes.append(
                    self.env._(
                        "Loyalty line %(line)s takes %(given)s off, its reward gives at most %(allowed)s. "
                        "Check this order.",
                        line=name,
                        given=format_amount(self.env, given, self.currency_id),
                        allowed=format_amount(self.env, allowed, self.currency_id),
                    )
                )
        if notes:
            _logger.info("Loyalty+ lines of order %s worth more than their rewards", self.name)
        return notes

    def _lp_line_allowed_discount(self, line, base):
        """The most a loyalty line may take off an order whose other lines total ``base``."""
        if line.lp_reward_id:
            reward = line.lp_reward_id.sudo()
            units = max(round(line.qty), 1)
            if reward.reward_kind == "amount":
                return min(reward.discount_amount * units, base)
            if reward.reward_kind == "percent":
                return base * reward.discount_percent / 100 * units
            return 0.0
        if line.lp_voucher_code:
            redemption = (
                self.env["loyalty_plus.redemption"]
                .sudo()
                .search(
                    Domain("code", "=", self.env["loyalty_plus.redemption"]._normalize_code(line.lp_voucher_code))
                    & Domain("company_id", "=", self.company_id._loyalty_plus_merchant().id),
                    limit=1,
                )
            )
            if not redemption:
                return 0.0
            values = self._lp_voucher_values(redemption)
            if values["kind"] == "amount":
                return min(values["amount"], base)
            if values["kind"] == "percent":
                return base * values["percent"] / 100
        # a free item (stamp card, product reward) is the item at no price, never a discount
        return 0.0

    def _lp_redeem_lines(self, shop):
        notes = []
        used_ref = self.pos_reference or self.name
        # a reward is paid by the card of the order, else by the card its line was added for
        # (an order crafted or reloaded without its card); never given for nothing
        to_redeem = self.lines.filtered(
            lambda ln: (ln.lp_reward_id or ln.lp_stamp_reward) and not ln.lp_transaction_id and ln.qty > 0
        )
        if to_redeem.filtered(lambda ln: not (self.lp_card_id or ln.lp_card_id)):
            notes.append(self.env._("Reward lines without a loyalty card: nothing redeemed."))
        to_redeem = to_redeem.filtered(lambda ln: self.lp_card_id or ln.lp_card_id)
        for line in to_redeem.filtered("lp_reward_id"):
            card = self.lp_card_id or line.lp_card_id
            reward = card._get_reward(line.lp_reward_id.id)
            # each unit of a reward line is a reward of its own: it costs its points (the browser's
            # quantity never buys several rewards for the points of one)
            units = max(round(line.qty), 1)
            vals, codes = {}, []
            for _unit in range(units):
                try:
                    with self.env.cr.savepoint():
                        transaction, redemption = card._redeem_reward(reward, shop, order_ref=self.uuid)
                        if reward.reward_kind == "voucher":
                            # a voucher is for later: the code stays to use, the receipt prints it
                            codes.append(redemption.code)
                        else:
                            redemption.consume(redemption.code, used_ref=used_ref)
                        vals = vals or {"lp_transaction_id": transaction.id, "lp_redemption_id": redemption.id}
                except (UserError, AccessError, ValidationError) as error:
                    _logger.info("Loyalty+ reward of order %s refused: %s", self.name, error.args[0])
                    notes.append(
                        self.env._(
                            "Reward %(reward)s not redeemed: %(reason)s", reward=reward.name, reason=error.args[0]
                        )
                    )
                    break
            if codes:
                vals["lp_issued_code"] = ", ".join(codes)
            if vals:
                line.write(vals)
        for line in to_redeem.filtered("lp_stamp_reward"):
            card = self.lp_card_id or line.lp_card_id
            try:
                with self.env.cr.savepoint():
                    # a cashier who raises the quantity gives several items: each costs a full card
                    transaction, redemption = card._lp_redeem_stamps(
                        shop, line.lp_staff_pin_id, line.lp_grant, self.uuid, count=int(line.qty)
                    )
                    redemption.consume(redemption.code, used_ref=used_ref)
                    line.write({"lp_transaction_id": transaction.id, "lp_redemption_id": redemption.id})
            except (UserError, AccessError, ValidationError) as error:
                _logger.info("Loyalty+ stamp reward of order %s refused: %s", self.name, error.args[0])
                notes.append(
                    self.env._(
                        "Stamp reward %(reward)s not redeemed: %(reason)s",
                        reward=line.full_product_name or line.product_id.display_name,
                        reason=error.args[0],
                    )
                )
        return notes

    def _lp_returned_stamps(self, line, origin):
        """The stamps a returned line of free items of a stamp card gives back: a full card per
        item returned (the engine never gives back more than the reward spent)."""
        original = line.refunded_orderline_id
        return -origin.stamps_delta // max(int(abs(original.qty)), 1) * int(abs(line.qty))

    def _lp_restore_vouchers(self):
        """A returned voucher line: the customer gets the code back, to use another day."""
        for line in self.lines.filtered(lambda ln: ln.refunded_orderline_id.lp_voucher_code):
            original = line.refunded_orderline_id
            if original.lp_redemption_id:
                original.lp_redemption_id.sudo()._restore(original.order_id.pos_reference or original.order_id.name)

    def _lp_use_vouchers(self, shop):
        """Use the voucher codes the customer brought (the order needs no card for that)."""
        notes = []
        for line in self.lines.filtered(lambda ln: ln.lp_voucher_code and not ln.lp_redemption_id and ln.qty > 0):
            try:
                with self.env.cr.savepoint():
                    redemption = self._lp_find_voucher(line.lp_voucher_code, shop, self.lp_card_id)
                    redemption.consume(redemption.code, used_ref=self.pos_reference or self.name)
                    line.lp_redemption_id = redemption
            except (UserError, AccessError) as error:
                _logger.info("Loyalty+ voucher of order %s refused: %s", self.name, error.args[0])
                notes.append(
                    self.env._("Voucher %(code)s not used: %(reason)s", code=line.lp_voucher_code, reason=error.args[0])
                )
        return notes

    def _lp_earn(self, shop):
        """The points of the purchase, by the engine's ``_earn`` (once per order uuid)."""
        if self.currency_id.compare_amounts(self.amount_total, 0) <= 0:
            return []  # nothing paid (a refund, a free order): no purchase to earn on
        try:
            with self.env.cr.savepoint():
                self.lp_card_id._earn(self.amount_total, shop, currency=self.currency_id, order_ref=self.uuid)
        except LoyaltyPlusRefusal as refusal:
            if refusal.code in SILENT_EARN_REFUSALS:
                return []
            _logger.info("Loyalty+ points of order %s refused: %s", self.name, refusal.args[0])
            return [self.env._("No points earned: %(reason)s", reason=refusal.args[0])]
        except (UserError, AccessError, ValidationError) as error:
            _logger.info("Loyalty+ points of order %s refused: %s", self.name, error.args[0])
            return [self.env._("No points earned: %(reason)s", reason=error.args[0])]
        return []

    def _lp_void_refund(self, shop):
        """A refund takes back the points its original order earned (in proportion to what is
        returned) and gives back the points of a returned reward.

        Product decision on the merchant's void policy (``loyalty_plus_void_policy``): the policy
        governs *manual* voids, a discretionary correction of the ledger where nothing comes back
        to the shop, so "Managers only" keeps cashiers from erasing history at will. A refund is
        different: the goods come back and the money goes out, and the POS has already authorised
        it with its own controls (who may refund: the POS access rights, and pos_hr's employee
        roles, where a "minimal" cashier cannot refund). Voiding the points of returned goods is
        the consequence of that refund, not a separate decision: keeping them would reopen the
        buy-earn-refund exploit. So a refund ALWAYS voids, under either policy, through the
        engine's private ``_void`` (the card's rules, no policy, no rate limit) rather than the
        policy-checked ``transaction.void``; the ledger rows keep the refund order and the
        cashier who synced it. The same holds for the points of a returned reward, which go back
        to the customer because the discount was paid back.

        A returned free item of a full stamp card gives its stamps back; a returned voucher line gives
        the customer the code back (``_lp_restore_vouchers``)."""
        notes = []
        Transaction = self.env["loyalty_plus.transaction"].sudo()
        refund_lines = self.lines.filtered("refunded_orderline_id")
        origin_order = refund_lines.refunded_orderline_id.order_id[:1]
        card = origin_order.lp_card_id.sudo()
        if not card or Transaction.search_count([("pos_order_id", "=", self.id)], limit=1):
            return notes
        card._lock()
        note = self.env._("Refund %(order)s", order=self.pos_reference or self.name)
        for line in refund_lines.filtered(lambda ln: ln.refunded_orderline_id.lp_transaction_id):
            origin = line.refunded_orderline_id.lp_transaction_id.sudo()
            if origin.transaction_type not in ("stamp_redeemed", "points_redeemed"):
                continue
            void_values = {}
            if origin.transaction_type == "stamp_redeemed":
                void_values["stamps"] = self._lp_returned_stamps(line, origin)
                if not void_values["stamps"]:
                    continue
            redemption = self.env["loyalty_plus.redemption"].sudo().search([("transaction_id", "=", origin.id)])
            if line.refunded_orderline_id.lp_issued_code and redemption.state == "used":
                # a voucher kept for later and already spent: its points cannot come back
                notes.append(
                    self.env._(
                        "The voucher %(code)s was already used: its points are not given back.",
                        code=redemption.code,
                    )
                )
                continue
            try:
                with self.env.cr.savepoint():
                    origin.with_env(self.env)._void(shop, note=note, **void_values)
            except (UserError, AccessError) as error:
                notes.append(self.env._("Points not given back: %(reason)s", reason=error.args[0]))
        earned = Transaction.search(
            Domain("pos_order_id", "=", origin_order.id) & Domain("transaction_type", "=", "points_earned"), limit=1
        )
        # what the returned quantities were paid on the original order (signs differ between
        # the till's refund orders and other callers: count from the original lines)
        returned = sum(
            abs(line.qty) / abs(line.refunded_orderline_id.qty) * abs(line.refunded_orderline_id.price_subtotal_incl)
            for line in refund_lines.filtered(
                lambda ln: (
                    ln.refunded_orderline_id.qty
                    and not (ln.lp_reward_id or ln.refunded_orderline_id.lp_reward_id)
                    and not ln.refunded_orderline_id.lp_voucher_code
                )
            )
        )
        if earned and self.currency_id.compare_amounts(returned, 0) > 0:
            try:
                with self.env.cr.savepoint():
                    # the goods were paid net of the order's rewards: what is left of the purchase
                    # at most
                    amount = card.program_id._convert_purchase(returned, self.currency_id)
                    earned.with_env(self.env)._void(shop, amount=amount, note=note, up_to_remaining=True)
            except (UserError, AccessError) as error:
                notes.append(self.env._("Points not voided: %(reason)s", reason=error.args[0]))
        return notes
