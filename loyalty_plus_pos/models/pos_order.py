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
    "lp_stamps_earned",
    "lp_stamps_voided",
    "lp_stamps_balance",
    "lp_stamps_target",
    "lp_campaign_names",
    "lp_card_number_masked",
    "lp_message",
)
# the types of the ledger rows that count as what an order earned (its points and bonuses)
EARNED_POINTS_TYPES = ("points_earned", "bonus")


class PosOrder(models.Model):
    _inherit = "pos.order"

    lp_card_id = fields.Many2one("loyalty_plus.card", string="Loyalty+ card", index="btree_not_null", readonly=True)
    lp_points_earned = fields.Integer(string="Points earned", readonly=True, copy=False)
    lp_points_redeemed = fields.Integer(string="Points spent", readonly=True, copy=False)
    lp_points_voided = fields.Integer(string="Points voided", readonly=True, copy=False)
    lp_points_balance = fields.Integer(string="Points balance after", readonly=True, copy=False)
    lp_stamps_redeemed = fields.Integer(string="Stamps spent", readonly=True, copy=False)
    lp_stamps_earned = fields.Integer(string="Stamps earned", readonly=True, copy=False)
    lp_stamps_voided = fields.Integer(string="Stamps taken back", readonly=True, copy=False)
    lp_stamps_balance = fields.Integer(string="Stamps after", readonly=True, copy=False)
    lp_stamps_target = fields.Integer(string="Stamps for a reward", readonly=True, copy=False)
    lp_campaign_names = fields.Char(string="Loyalty+ campaigns", readonly=True, copy=False)
    lp_card_number_masked = fields.Char(string="Loyalty+ card number", readonly=True, copy=False)
    # the approval of the stamps of the sale: who typed the PIN in the payment flow, and the
    # server's proof of it for this card and this order (the PIN itself never travels)
    lp_staff_pin_id = fields.Many2one("loyalty_plus.staff_pin", string="Stamps approved by", readonly=True, copy=False)
    lp_grant = fields.Char(string="Stamps approval", readonly=True, copy=False)
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
            fields_list = [*fields_list, "lp_card_id", "lp_staff_pin_id", "lp_grant", *SERVER_FIELDS]
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
    def lp_preview(self, config_id, card_id, lines):
        """What the order the till holds would earn on card ``card_id``: the engine's
        ``_compute_earnings`` of its ``lines`` (``[{"product_id", "qty", "price_incl",
        "price_excl", "loyalty"}]``, the till's line totals; ``loyalty`` marks the reward,
        voucher and promotion lines). A preview only: the server computes again when the paid
        order syncs. False without a card."""
        Card = self.env["loyalty_plus.card"]
        shop = Card._lp_get_shop(config_id)
        card = self._lp_get_order_card(card_id)
        if not card:
            return False
        card._check_operable(shop)
        goods, discount = [], 0.0
        for line in self._lp_parse_till_lines(lines):
            if line.pop("loyalty"):
                discount += line["price_incl"]
            else:
                goods.append(line)
        program = card.sudo().program_id
        currency = self.env["pos.config"].browse(int(config_id)).currency_id
        share = self._lp_paid_share(goods, discount)
        return program._compute_earnings(card, self._lp_engine_lines(goods, share, program, currency), shop)

    @api.model
    def _lp_parse_till_lines(self, lines):
        """The lines a till sent, as plain numbers; a refusal for anything else."""
        parsed = []
        try:
            for line in lines or []:
                parsed.append(
                    {
                        "product_id": int(line.get("product_id") or 0) or False,
                        "qty": float(line.get("qty") or 0.0),
                        "price_incl": float(line.get("price_incl") or 0.0),
                        "price_excl": float(line.get("price_excl") or 0.0),
                        "loyalty": bool(line.get("loyalty")),
                    }
                )
        except (AttributeError, TypeError, ValueError):
            raise LoyaltyPlusRefusal("validation_error", self.env._("The order lines could not be read.")) from None
        return parsed

    @api.model
    def _lp_paid_share(self, goods, discount):
        """The share of the ``goods`` (their total) the customer paid once the order's loyalty
        lines (``discount``, their total, at most zero) are taken off."""
        base = sum(line["price_incl"] for line in goods)
        discount = min(discount, 0.0)
        return max(base + discount, 0.0) / base if discount and base > 0 else 1.0

    @api.model
    def _lp_engine_lines(self, goods, share, program, currency):
        """The engine's lines of an order's ``goods`` (``[{"product_id", "qty", "price_incl",
        "price_excl"}]`` in ``currency``), in the program's currency, each for the ``share`` of
        it the customer paid (the order's rewards and vouchers spread over the goods in
        proportion: the customer earns on what they paid)."""
        convert = currency and program.currency_id and currency != program.currency_id
        today = fields.Date.context_today(self)

        def amount(value):
            value *= share
            if convert:
                value = currency._convert(value, program.currency_id, program.company_id, today)
            return value

        return [
            {**line, "price_incl": amount(line["price_incl"]), "price_excl": amount(line["price_excl"])}
            for line in goods
        ]

    def _lp_goods_lines(self, quantities=None):
        """This order's lines the customer earns on (without its loyalty lines and returned
        lines), as ``_lp_engine_lines`` takes them, and the share of them the customer paid.
        ``quantities`` ({line: quantity}) takes part of the lines (what a refund returns, what
        the order keeps); by default the whole order."""
        self.ensure_one()
        loyalty = self.lines.filtered(lambda ln: ln._lp_is_loyalty_line())
        goods, taken = [], []
        for line in self.lines - loyalty - self.lines.filtered("refunded_orderline_id"):
            values = {
                "product_id": line.product_id.id,
                "qty": line.qty,
                "price_incl": line.price_subtotal_incl,
                "price_excl": line.price_subtotal,
            }
            goods.append(values)
            qty = line.qty if quantities is None else quantities.get(line, 0.0)
            if line.qty and qty:
                ratio = qty / line.qty
                taken.append(
                    {
                        **values,
                        "qty": qty,
                        "price_incl": values["price_incl"] * ratio,
                        "price_excl": values["price_excl"] * ratio,
                    }
                )
        return taken, self._lp_paid_share(goods, sum(loyalty.mapped("price_subtotal_incl")))

    def _lp_earning_lines(self, program, quantities=None):
        """The engine's lines of this order (see ``_lp_goods_lines``)."""
        goods, share = self._lp_goods_lines(quantities)
        return self._lp_engine_lines(goods, share, program, self.currency_id)

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
                vals.update(order._lp_get_card_values(card))
            order.write(vals)

    def _lp_get_card_values(self, card):
        """What the order's ledger rows on ``card`` did, and the card after them (the receipt)."""
        self.ensure_one()
        card_sudo = card.sudo()
        program = card_sudo.program_id
        rows = (
            self.env["loyalty_plus.transaction"]
            .sudo()
            .search([("pos_order_id", "=", self.id), ("card_id", "=", card.id)])
        )

        def total(types, unit="points_delta"):
            return sum(rows.filtered(lambda r: r.transaction_type in types).mapped(unit))

        return {
            "lp_points_earned": total(EARNED_POINTS_TYPES),
            "lp_points_redeemed": -total(("points_redeemed",)),
            "lp_points_voided": -total(("points_voided", "points_refunded")),
            "lp_points_balance": card_sudo.points_balance,
            "lp_stamps_earned": total(("stamp_earned", "stamp_progress"), "stamps_delta"),
            "lp_stamps_redeemed": -total(("stamp_redeemed",), "stamps_delta"),
            "lp_stamps_voided": -total(("stamp_voided",), "stamps_delta"),
            "lp_stamps_balance": card_sudo.stamp_count,
            "lp_stamps_target": program.stamps_target if program.has_stamps else 0,
            "lp_campaign_names": ", ".join(rows.campaign_id.mapped("name")) or False,
            "lp_card_number_masked": card._lp_masked_number(),
        }

    def _lp_check_line_values(self):
        """Flag the loyalty lines worth more than their reward gives.

        The till refuses to edit these lines; a line edited anyway (or a crafted order) is paid
        already, so the sale stands and its rewards are still paid for with points and codes
        (never a discount for free), while the note tells the manager what to check."""
        notes = []
        loyalty_lines = self.lines.filtered(lambda ln: ln._lp_is_loyalty_line())
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

    def _lp_refund_quantities(self, origin_order):
        """What this refund returns of ``origin_order``'s goods and what that order keeps after
        every refund of it, as ``{original line: quantity}`` (signs differ between the till's
        refund orders and other callers: counted from the original lines)."""
        returned, remaining = {}, {}
        for line in origin_order.lines.filtered(lambda ln: ln.qty and not ln._lp_is_loyalty_line()):
            # the refunds paid so far (a refund still open on a till returns nothing yet)
            refunds = line.refund_orderline_ids.filtered(
                lambda ln: ln.order_id == self or ln.order_id.state in ("paid", "done", "invoiced")
            )
            mine = sum(abs(ln.qty) for ln in refunds if ln.order_id == self)
            sign = 1 if line.qty > 0 else -1
            if mine:
                returned[line] = sign * min(mine, abs(line.qty))
            remaining[line] = sign * max(abs(line.qty) - sum(abs(ln.qty) for ln in refunds), 0.0)
        return returned, remaining

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
        """What the purchase earns (stamps, points, campaign bonuses), by the engine's
        ``_earn_order`` (once per order uuid). The stamps need the staff approval the till got
        in the payment flow when the program requires a PIN; without it the customer still gets
        the points and the order says why there are no stamps."""
        if self.currency_id.compare_amounts(self.amount_total, 0) <= 0:
            return []  # nothing paid (a refund, a free order): no purchase to earn on
        card = self.lp_card_id
        program = card.sudo().program_id
        approved = card._lp_check_sale_grant(self.lp_staff_pin_id, self.lp_grant, self.uuid)
        if not approved and self.lp_staff_pin_id:
            self.lp_staff_pin_id = False  # nobody approved what the till claims
        try:
            with self.env.cr.savepoint():
                rows = card._earn_order(
                    self._lp_earning_lines(program),
                    shop,
                    currency=program.currency_id,
                    staff=self.lp_staff_pin_id if approved else None,
                    order_ref=self.uuid,
                    include_stamps=True,
                    stamps_approved=approved or not program.require_staff_pin,
                    now=self._lp_sale_time(),
                )
        except LoyaltyPlusRefusal as refusal:
            if refusal.code in SILENT_EARN_REFUSALS:
                return []
            _logger.info("Loyalty+ earning of order %s refused: %s", self.name, refusal.args[0])
            return [self.env._("No points earned: %(reason)s", reason=refusal.args[0])]
        except (UserError, AccessError, ValidationError) as error:
            _logger.info("Loyalty+ earning of order %s refused: %s", self.name, error.args[0])
            return [self.env._("No points earned: %(reason)s", reason=error.args[0])]
        # why the sale earned less than it could (no PIN, cooldown, daily limit); a replay
        # writes nothing and says nothing new
        return list(rows.env.context.get("loyalty_plus_notes") or ())

    def _lp_sale_time(self):
        """When the sale happened, for the campaigns of that time (an offline till syncs later):
        the till's order date, never later than now nor earlier than its session's opening (the
        till's clock cannot reach back to an old campaign)."""
        self.ensure_one()
        now = fields.Datetime.now()
        sold = min(self.date_order or now, now)
        opened = self.session_id.start_at or self.session_id.create_date
        return max(sold, opened) if opened and opened <= now else sold

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
        returned, remaining = self._lp_refund_quantities(origin_order)
        if returned:
            program = card.program_id
            try:
                with self.env.cr.savepoint():
                    card.with_env(self.env)._void_order_earnings(
                        origin_order.uuid,
                        origin_order._lp_earning_lines(program, returned),
                        origin_order._lp_earning_lines(program, remaining),
                        shop,
                        note=note,
                    )
            except (UserError, AccessError) as error:
                notes.append(self.env._("Points and stamps not taken back: %(reason)s", reason=error.args[0]))
        return notes
