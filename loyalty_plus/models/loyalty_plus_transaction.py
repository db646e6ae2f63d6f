from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_round

from ..exceptions import LoyaltyPlusRefusal

TRANSACTION_TYPES = [
    ("stamp_earned", "Stamp earned"),
    ("stamp_redeemed", "Stamps redeemed"),
    ("stamp_voided", "Stamp voided"),
    ("stamp_refunded", "Stamps given back"),
    ("stamp_adjusted", "Stamps adjusted"),
    ("stamp_progress", "Spend towards a stamp"),
    ("points_earned", "Points earned"),
    ("points_redeemed", "Points redeemed"),
    ("points_refunded", "Points refunded"),
    ("points_voided", "Points voided"),
    ("points_adjusted", "Points adjusted"),
    ("points_expired", "Points expired"),
    ("welcome_bonus", "Welcome bonus"),
    ("bonus", "Bonus points"),
    ("referral_bonus", "Referral bonus"),
    ("promotion", "Promotion used"),
]


class LoyaltyPlusTransaction(models.Model):
    _name = "loyalty_plus.transaction"
    _description = "Loyalty+ ledger entry"
    _order = "id desc"
    _check_company_auto = True

    card_id = fields.Many2one("loyalty_plus.card", required=True, readonly=True, ondelete="restrict", index=True)
    partner_id = fields.Many2one(related="card_id.partner_id", string="Customer")
    # copied from the card when the row is written (a card never changes program or merchant once it
    # has history): one INSERT per ledger row instead of an INSERT and the UPDATE of stored related fields
    program_id = fields.Many2one("loyalty_plus.program", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", string="Merchant", required=True, readonly=True, index=True)
    shop_id = fields.Many2one("res.company", string="Shop", readonly=True, index=True)
    transaction_type = fields.Selection(TRANSACTION_TYPES, string="Type", required=True, readonly=True, index=True)
    stamps_delta = fields.Integer(required=True, default=0, string="Stamps", readonly=True)
    points_delta = fields.Integer(required=True, default=0, string="Points", readonly=True)
    stamps_after = fields.Integer(string="Stamps after", readonly=True)
    points_after = fields.Integer(string="Balance after", readonly=True)
    amount = fields.Monetary(string="Purchase amount", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    order_ref = fields.Char(string="Order reference", readonly=True, index="btree_not_null")
    origin_transaction_id = fields.Many2one(
        "loyalty_plus.transaction", string="Voids", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    reward_id = fields.Many2one("loyalty_plus.reward", readonly=True, ondelete="restrict")
    # what caused an earning: the program's rule or campaign (none: the program's points per euro)
    earning_rule_id = fields.Many2one("loyalty_plus.earning_rule", string="Rule", readonly=True, ondelete="restrict")
    campaign_id = fields.Many2one("loyalty_plus.campaign", readonly=True, ondelete="restrict", index="btree_not_null")
    bank_delta = fields.Monetary(
        string="Spend banked", readonly=True, help="Spending added to (or taken from) the spend towards the next stamp"
    )
    # who acted is the shop's business, not the customer's: portal customers see the shop only
    staff_pin_id = fields.Many2one(
        "loyalty_plus.staff_pin", string="Staff", readonly=True, ondelete="restrict", groups="base.group_user"
    )
    user_id = fields.Many2one("res.users", string="User", readonly=True, groups="base.group_user")
    admin_user_id = fields.Many2one("res.users", string="Approved by", readonly=True, groups="base.group_user")
    note = fields.Text(readonly=True)
    request_ip = fields.Char(string="IP address", readonly=True, groups="base.group_user")
    user_agent = fields.Char(readonly=True, groups="base.group_user")

    _card_date_idx = models.Index("(card_id, create_date)")
    _earn_once_per_order_effect = models.UniqueIndex(
        "(program_id, order_ref, transaction_type, coalesce(earning_rule_id, 0), coalesce(campaign_id, 0)) "
        "WHERE transaction_type IN ('points_earned', 'bonus', 'stamp_earned', 'stamp_progress', 'promotion') "
        "AND order_ref IS NOT NULL",
        "This order already earned.",
    )

    @api.model
    def _get_earning_types(self):
        """Types whose positive points count as earned (lifetime and tiers)."""
        return ["points_earned", "welcome_bonus", "bonus", "referral_bonus"]

    @api.model
    def _insert_rows(self, vals_list):
        """Append ledger rows with a single INSERT.

        Ledger rows are written on the hot path of every till and API call, and never change: no
        computed, related or tracked field to maintain, so the ORM's ``create`` (which reads each
        row back to round its amount) is replaced by the one statement it comes down to."""
        now = self.env.cr.now()
        audit = {"create_uid": self.env.uid, "create_date": now, "write_uid": self.env.uid, "write_date": now}
        vals_list = [{**vals, **audit} for vals in vals_list]
        names = list(dict.fromkeys(name for vals in vals_list for name in vals))
        record = self.browse()

        def column_value(field, vals):
            value = vals.get(field.name)
            if field.type == "monetary" and not value:
                return 0.0  # no amount (a stamp, a redemption): nothing to round, no currency to read
            return field.convert_to_column_insert(value, record, vals)

        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(self._table),
                SQL(", ").join(SQL.identifier(name) for name in names),
                SQL(", ").join(
                    SQL("%s", tuple(column_value(self._fields[name], vals) for name in names)) for vals in vals_list
                ),
            )
        )
        rows = self.browse([row_id for (row_id,) in self.env.cr.fetchall()])
        # what the ORM's create would have done: the one2many caches of the rows they point to
        for name in names:
            field = self._fields[name]
            if field.type == "many2one":
                targets = {vals[name] for vals in vals_list if vals.get(name)}
                for inverse in self.pool.field_inverses[field]:
                    self.env[inverse.model_name].browse(targets).invalidate_recordset([inverse.name])
        for row, vals in zip(rows, vals_list, strict=True):
            row._update_cache(vals)  # what follows (redemption, webhooks) reads the row: no fetch
        return rows

    def write(self, vals):  # pylint: disable=method-required-super
        # append-only: nothing may change a ledger row, so nothing reaches super()
        raise UserError(self.env._("The loyalty ledger is append-only: correct it with a void or an adjustment."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The loyalty ledger is append-only: its entries cannot be deleted."))

    def action_void(self):
        """Backend button: void the whole entry."""
        self.ensure_one()
        self.void()
        return True

    def void(self, amount=None, note=None, shop_id=None):
        """Undo this entry, fully or for ``amount`` of its purchase (a partial return).

        Points already spent cannot be taken back below zero: the void removes what is left and
        says in its note how many points could not be recovered.
        """
        self.ensure_one()
        shop = self._check_void_allowed(shop_id)
        return self._void(shop, amount=amount, note=note)

    def _check_void_allowed(self, shop_id=None):
        """Count the call and refuse it unless the user may void this entry in ``shop_id``: the
        merchant's void policy (managers only, or any cashier), the user's rights. Returns the shop."""
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("void")
        card = self.card_id
        merchant = card.sudo().company_id
        if merchant.loyalty_plus_void_policy == "manager" and not self.env.user.has_group(
            "loyalty_plus.group_loyalty_plus_manager"
        ):
            raise AccessError(self.env._("Only a loyalty manager can void in %(merchant)s.", merchant=merchant.name))
        self.check_access("read")
        shop = card._get_shop(shop_id)
        card.check_access("write")
        return shop

    def _void(self, shop, amount=None, note=None, stamps=None, up_to_remaining=False):
        """Undo this entry in ``shop`` (see ``void``), under the rules of every operation: the
        merchant, an active card and program, its shop.

        A purchase may be voided for ``amount`` of it (a partial return); with ``up_to_remaining``
        an amount above what is left of the purchase voids what is left (a refund whose goods were
        paid net of the order's rewards). A stamp reward may give back ``stamps`` of the stamps it
        spent (its free items returned one by one)."""
        self.ensure_one()
        card = self.card_id
        card._check_operable(shop)
        card._lock()
        origin = self.sudo()
        done = self.sudo().search([("origin_transaction_id", "=", origin.id)])
        if origin.transaction_type in ("points_earned", "bonus") and origin.amount:
            return self._void_points_earned(card, origin, done, amount, note, shop, up_to_remaining)
        if origin.transaction_type == "stamp_redeemed" and amount is None:
            return self._void_stamps_redeemed(card, origin, done, stamps, note, shop)
        if amount is not None or stamps is not None:
            raise LoyaltyPlusRefusal("void_refused", self.env._("Only a purchase can be voided partially."))
        if done:
            raise LoyaltyPlusRefusal("void_refused", self.env._("This entry was already voided."))
        if origin.transaction_type == "stamp_earned":
            if card.stamp_count < 1:
                raise LoyaltyPlusRefusal(
                    "void_refused", self.env._("The stamp was already spent on a reward: nothing left to void.")
                )
            tx = card._apply_ledger(
                {
                    "transaction_type": "stamp_voided",
                    "stamps_delta": -1,
                    "shop_id": shop.id,
                    "origin_transaction_id": origin.id,
                    "note": note,
                },
                lock=False,
            )
        elif origin.transaction_type == "points_redeemed":
            redemption = origin.env["loyalty_plus.redemption"].search([("transaction_id", "=", origin.id)])
            redemption._cancel()
            tx = card._apply_ledger(
                {
                    "transaction_type": "points_refunded",
                    "points_delta": -origin.points_delta,
                    "shop_id": shop.id,
                    "origin_transaction_id": origin.id,
                    "note": note,
                    "reward_id": origin.reward_id.id,
                },
                lock=False,
            )
        else:
            raise LoyaltyPlusRefusal(
                "void_refused",
                self.env._(
                    "A %(type)s entry cannot be voided; adjust the balance instead.",
                    type=dict(self._fields["transaction_type"]._description_selection(self.env))[
                        origin.transaction_type
                    ],
                ),
            )
        return card._operation_result(tx)

    def _void_stamps_redeemed(self, card, origin, done, stamps, note, shop):
        """Give back the stamps of a stamp reward (all that are left, or ``stamps`` of them): the
        free items did not happen or came back. Its code is void once every stamp is back."""
        spent = -origin.stamps_delta
        left = spent - sum(done.filtered(lambda t: t.transaction_type == "stamp_refunded").mapped("stamps_delta"))
        if left <= 0:
            raise LoyaltyPlusRefusal("void_refused", self.env._("This entry was already voided."))
        if stamps is None:
            stamps = left
        elif not isinstance(stamps, int) or stamps <= 0:
            raise LoyaltyPlusRefusal("validation_error", self.env._("The stamps to give back must be above zero."))
        stamps = min(stamps, left)  # never more than the reward spent
        if stamps == left:
            origin.env["loyalty_plus.redemption"].search([("transaction_id", "=", origin.id)])._cancel()
        tx = card._apply_ledger(
            {
                "transaction_type": "stamp_refunded",
                "stamps_delta": stamps,
                "shop_id": shop.id,
                "origin_transaction_id": origin.id,
                "note": note,
            },
            lock=False,
        )
        return card._operation_result(tx)

    def _void_points_earned(self, card, origin, done, amount, note, shop, up_to_remaining=False):
        currency = origin.currency_id
        refunded = -sum(done.mapped("amount"))
        remaining = origin.amount - refunded
        if currency.compare_amounts(remaining, 0) <= 0:
            raise LoyaltyPlusRefusal("void_refused", self.env._("This purchase was already returned in full."))
        if amount is None:
            amount = remaining
        else:
            try:
                amount = float(amount)
            except (TypeError, ValueError):
                raise LoyaltyPlusRefusal(
                    "validation_error", self.env._("The returned amount must be a number.")
                ) from None
            if up_to_remaining:
                amount = min(amount, remaining)
        if currency.compare_amounts(amount, 0) <= 0 or currency.compare_amounts(amount, remaining) > 0:
            raise LoyaltyPlusRefusal(
                "validation_error",
                self.env._(
                    "The returned amount must be above zero and at most %(remaining)s.",
                    remaining=currency.format(remaining),
                ),
            )
        # Each return asks for its share of the purchase's points, counted on the cumulated
        # returns so that rounding never adds up; the last return asks for what is left.
        asked_before = self._points_share(origin, refunded)
        if currency.compare_amounts(amount, remaining) == 0:
            asked_after = origin.points_delta
        else:
            asked_after = self._points_share(origin, refunded + amount)
        wanted = asked_after - asked_before
        taken = min(wanted, card.sudo().points_balance)
        if taken < wanted:
            shortfall = self.env._(
                "%(missing)s points were already spent and could not be taken back.", missing=wanted - taken
            )
            note = f"{note}\n{shortfall}" if note else shortfall
        tx = card._apply_ledger(
            {
                "transaction_type": "points_voided",
                "points_delta": -taken,
                "shop_id": shop.id,
                "origin_transaction_id": origin.id,
                "note": note,
                "amount": -amount,
                "order_ref": origin.order_ref,
            },
            lock=False,
        )
        return card._operation_result(tx)

    @api.model
    def _points_share(self, origin, returned_amount):
        """Points of ``origin`` that a return of ``returned_amount`` of its purchase stands for."""
        return int(float_round(origin.points_delta * returned_amount / origin.amount, precision_digits=0))
