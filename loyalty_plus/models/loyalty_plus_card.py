import math
import secrets
from datetime import datetime, time, timedelta
from textwrap import shorten

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, email_normalize

from ..exceptions import LoyaltyPlusRefusal

# what a cashier may change on a card (the operations write the rest as superuser)
CASHIER_FIELDS = {"marketing_consent"}
# written by the engine only: the consent evidence
ENGINE_FIELDS = {"terms_accepted_date"}
AMBIGUOUS_LIMIT = 10  # cards read to tell whether an email or a phone number designates one customer
CARD_FILLFACTOR = 80  # percent of a table page that inserts fill

# Balance fields change only through the ledger operations below (SQL, under a row lock).
BALANCE_FIELDS = {
    "stamp_count",
    "total_stamps_earned",
    "total_stamps_redeemed",
    "points_balance",
    "total_points_earned",
    "total_points_redeemed",
    "total_points_voided",
    "total_points_expired",
    "last_stamp_date",
    "last_points_date",
    "last_activity_date",
    "tier_id",
    "stamp_bank",
    "points_fraction",
}
# What the ledger UPDATE returns (tier_id moves apart, in _update_tier).
UPDATED_FIELDS = (*sorted(BALANCE_FIELDS - {"tier_id"}), "write_date", "write_uid")
QR_PREFIX = "LPC"
# What a lookup reads of a card, with the search that finds it: the summary and the operations' checks
SUMMARY_FIELDS = [
    "card_number",
    "partner_id",
    "program_id",
    "company_id",
    "shop_id",
    "cross_location",
    "active",
    "stamp_count",
    "points_balance",
    "tier_id",
    "last_stamp_date",
    "stamp_bank",
    "points_fraction",
    "referral_code",
    # and what an operation's notifications read of it
    "stamp_reward_notified",
    "points_reward_notified",
    "reward_ready_mail_due",
    # and what an earning's referral hook reads (loyalty_plus_card_referral)
    "referred_by_id",
]
# What a PIN check reads of the staff member, in one query.
STAFF_FIELDS = [
    "name",
    "active",
    "program_id",
    "company_id",
    "shop_id",
    "pin_hash",
    "failed_attempts",
    "locked_until",
    "lock_count",
    "manager_unlock_required",
]


def luhn_check_digit(digits):
    """The Luhn check digit of a string of digits."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def normalize_card_number(value):
    """Digits of a typed or scanned card number ("1234 5678-9012", "LPC123456789012")."""
    value = (value or "").strip().upper()
    if value.startswith(QR_PREFIX):
        value = value[len(QR_PREFIX) :]
    return "".join(c for c in value if c.isdigit())


def is_valid_card_number(digits):
    return len(digits) == 12 and luhn_check_digit(digits[:-1]) == digits[-1]


class LoyaltyPlusCard(models.Model):
    _name = "loyalty_plus.card"
    _description = "Loyalty+ card"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "card_number"
    _rec_names_search = ["card_number", "partner_id.name", "partner_id.email", "partner_id.phone"]
    _check_company_auto = True

    card_number = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: self._generate_card_number(),
        help="12 digits, the last one a Luhn check digit",
    )
    qr_payload = fields.Char(compute="_compute_qr_payload", string="QR code content")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, tracking=True)
    program_id = fields.Many2one(
        "loyalty_plus.program", required=True, index=True, ondelete="restrict", check_company=True
    )
    company_id = fields.Many2one(related="program_id.company_id", string="Merchant", store=True, index=True)
    shop_id = fields.Many2one("res.company", string="Enrolled in", required=True, index=True)
    cross_location = fields.Boolean(related="company_id.loyalty_plus_cross_location", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    program_type = fields.Selection(related="program_id.program_type")
    stamps_target = fields.Integer(related="program_id.stamps_target")
    active = fields.Boolean(default=True, tracking=True)
    marketing_consent = fields.Boolean(help="The customer agreed to receive marketing emails", tracking=True)
    terms_accepted_date = fields.Datetime(readonly=True, copy=False)
    reward_ready = fields.Boolean(
        compute="_compute_reward_ready", search="_search_reward_ready", help="A full stamp card waits for its reward"
    )

    stamp_count = fields.Integer(string="Stamps", required=True, default=0, readonly=True, copy=False)
    total_stamps_earned = fields.Integer(string="Stamps earned", required=True, default=0, readonly=True, copy=False)
    total_stamps_redeemed = fields.Integer(
        string="Stamps redeemed", required=True, default=0, readonly=True, copy=False
    )
    points_balance = fields.Integer(string="Points", required=True, default=0, readonly=True, copy=False)
    total_points_earned = fields.Integer(string="Points earned", required=True, default=0, readonly=True, copy=False)
    total_points_redeemed = fields.Integer(
        string="Points redeemed", required=True, default=0, readonly=True, copy=False
    )
    total_points_voided = fields.Integer(string="Points voided", required=True, default=0, readonly=True, copy=False)
    total_points_expired = fields.Integer(string="Points expired", required=True, default=0, readonly=True, copy=False)
    last_stamp_date = fields.Datetime(readonly=True, copy=False)
    last_points_date = fields.Datetime(readonly=True, copy=False)
    last_activity_date = fields.Datetime(readonly=True, copy=False, index=True)
    tier_id = fields.Many2one("loyalty_plus.tier", string="Tier", readonly=True, copy=False)
    # what the customer spent towards the next stamp of a "stamps per amount spent" rule, and the
    # fraction of a point not given yet: both carry over to the next purchase
    stamp_bank = fields.Monetary(string="Spent towards the next stamp", readonly=True, copy=False)
    points_fraction = fields.Float(string="Fraction of a point", readonly=True, copy=False, digits=(16, 6))
    stamp_bank_to_next = fields.Monetary(
        compute="_compute_stamp_bank_to_next",
        string="To the next stamp",
        help="What is left to spend for the next stamp",
    )

    transaction_ids = fields.One2many("loyalty_plus.transaction", "card_id", string="Ledger")
    redemption_ids = fields.One2many("loyalty_plus.redemption", "card_id", string="Redemptions")
    transaction_count = fields.Integer(compute="_compute_transaction_count")

    _card_number_unique = models.UniqueIndex("(card_number)", "This card number is already taken.")
    _one_card_per_merchant = models.UniqueIndex(
        "(company_id, partner_id) WHERE cross_location",
        "This customer already has a card of this merchant, valid in every shop.",
    )
    _one_card_per_shop = models.UniqueIndex("(shop_id, partner_id)", "This customer already has a card for this shop.")
    _balances_positive = models.Constraint(
        "CHECK (points_balance >= 0 AND stamp_count >= 0)", "A card balance can never go below zero."
    )

    def _compute_qr_payload(self):
        for card in self:
            card.qr_payload = f"{QR_PREFIX}{card.card_number}"

    def _compute_transaction_count(self):
        counts = dict(
            self.env["loyalty_plus.transaction"]._read_group(
                [("card_id", "in", self.ids)], groupby=["card_id"], aggregates=["__count"]
            )
        )
        for card in self:
            card.transaction_count = counts.get(card._origin, 0)

    def init(self):
        super().init()
        # Room on each page for new versions of its cards: an update that changes no indexed column
        # (points expiring) then stays on the page (HOT) and adds no index entry.
        self.env.cr.execute(SQL("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", self._table))
        if f"fillfactor={CARD_FILLFACTOR}" not in (self.env.cr.fetchone()[0] or []):
            self.env.cr.execute(
                SQL("ALTER TABLE %s SET (fillfactor = %s)", SQL.identifier(self._table), CARD_FILLFACTOR)
            )

    @api.depends("stamp_bank", "program_id")
    def _compute_stamp_bank_to_next(self):
        for card in self:
            step = card.sudo().program_id._get_spend_step()
            card.stamp_bank_to_next = max(step - card.stamp_bank, 0.0) if step else 0.0

    @api.depends("stamp_count", "program_id.stamps_target", "program_id.program_type")
    def _compute_reward_ready(self):
        for card in self:
            card.reward_ready = card._stamp_rewards_ready()

    def _search_reward_ready(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        self.env["loyalty_plus.card"].flush_model(["stamp_count", "program_id"])
        self.env["loyalty_plus.program"].flush_model(["stamps_target", "program_type"])
        query = SQL(
            """SELECT card.id FROM loyalty_plus_card card
                 JOIN loyalty_plus_program program ON program.id = card.program_id
                WHERE program.program_type IN ('stamps', 'hybrid') AND card.stamp_count >= program.stamps_target"""
        )
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", query)]

    @api.model
    def _search_display_name(self, operator, value):
        """Find a member in the backend as the till does: a card number typed in groups
        ("1234 5678 9012") and a phone number in any usual form ("661 781 848" for the stored
        "+352661781848"), besides the name and email."""
        domain = super()._search_display_name(operator, value)
        if operator not in ("ilike", "=ilike", "like", "=") or not isinstance(value, str) or not value.strip():
            return domain
        forms = []
        digits = normalize_card_number(value)
        if len(digits) >= 4 and digits != value:
            forms.append(Domain("card_number", "like", digits))
        country = self.env.company._loyalty_plus_phone_country()
        if phones := self.env["res.partner"]._loyalty_plus_phone_forms(value.strip(), country):
            forms.append(Domain("partner_id.phone", "in", phones))
        return Domain.OR([domain, *forms])

    @api.depends("card_number", "partner_id")
    def _compute_display_name(self):
        for card in self:
            number = card.card_number or ""
            grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
            card.display_name = f"{grouped} - {card.partner_id.name}" if card.partner_id else grouped

    @api.constrains("shop_id", "program_id")
    def _check_shop(self):
        for card in self:
            card.shop_id._loyalty_plus_check_shop_of(card.program_id.company_id)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if BALANCE_FIELDS & vals.keys():
                raise UserError(self.env._("A new card starts empty: balances change only through the ledger."))
            if not vals.get("shop_id") and vals.get("program_id"):
                program = self.env["loyalty_plus.program"].browse(vals["program_id"])
                company = self.env.company
                vals["shop_id"] = company.id if company.root_id == program.company_id else program.company_id.id
        if not self.env.su:
            for vals in vals_list:
                # a card is issued in a shop the user acts for, as enroll() does
                self._get_shop(vals.get("shop_id"))
        self._check_plan_members(vals_list)
        cards = super().create(vals_list)
        for card in cards.filtered(lambda c: c.program_id.welcome_bonus_points and c.program_id.has_points):
            card._apply_ledger(
                {
                    "transaction_type": "welcome_bonus",
                    "points_delta": card.program_id.welcome_bonus_points,
                    "shop_id": card.shop_id.id,
                },
                lock=False,
            )
        return cards

    @api.model
    def _check_plan_members(self, vals_list):
        """New cards take their merchants' members up to the limit of their plans, not beyond
        (every enrollment, whether at a till, on the website or through the API, creates here)."""
        partners_by_merchant = {}
        for vals in vals_list:
            if vals.get("program_id") and vals.get("partner_id") and vals.get("active", True):
                merchant = self.env["loyalty_plus.program"].sudo().browse(vals["program_id"]).company_id
                partners_by_merchant.setdefault(merchant, self.env["res.partner"])
                partners_by_merchant[merchant] |= self.env["res.partner"].browse(vals["partner_id"])
        for merchant, partners in partners_by_merchant.items():
            merchant._loyalty_plus_check_plan_members(partners)

    def write(self, vals):
        if BALANCE_FIELDS & vals.keys():
            raise UserError(self.env._("Balances change only through loyalty operations, which keep the ledger."))
        if not self.env.su:
            if ENGINE_FIELDS & vals.keys():
                raise AccessError(self.env._("The consent date is recorded at enrollment and cannot be changed."))
            # a cashier's rights on cards serve the operations; changing whose card it is, archiving
            # it or moving it is a manager's decision
            if vals.keys() - CASHIER_FIELDS and not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
                raise AccessError(self.env._("Only a loyalty manager can change, move or archive a card."))
        moved = {"program_id", "shop_id", "card_number"} & vals.keys()
        if moved and self.transaction_ids:
            raise UserError(self.env._("A card with history cannot move to another program, shop or number."))
        res = super().write(vals)
        if moved:
            self.check_access("write")  # record rules only saw where the card came from
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_history(self):
        if self.transaction_ids:
            raise UserError(self.env._("A card with history cannot be deleted: archive it instead."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_view_transactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_transaction_action")
        action["domain"] = [("card_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Public operations (RPC): thin doors doing rights and rate limits for people, then the
    # private operations below; server-side flows (order sync, crons, the API after its own
    # limit) call the private operations. Every refusal is a LoyaltyPlusRefusal with its code.
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def lookup(self, query, shop_id=None):
        """Find a card by card number, QR payload, email or phone; returns its summary or False."""
        shop = self._get_shop(shop_id)
        card = self._find(query, shop)
        return card._get_summary() if card else False

    def add_stamp(self, staff_pin_id=None, pin=None, shop_id=None):
        """Stamp the card; returns ``{"ok": True, "card": summary, "transaction_id", "reward_ready"}``."""
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("stamp")
        shop = self._get_shop(shop_id)
        staff = self._authorize(shop, staff_pin_id, pin, supports="stamps")
        return self._operation_result(self._stamp(shop, staff))

    def redeem_stamps(self, staff_pin_id=None, pin=None, shop_id=None, order_ref=None):
        """Trade a full stamp card for the stamp reward; returns the one-time redemption code."""
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("redeem")
        shop = self._get_shop(shop_id)
        staff = self._authorize(shop, staff_pin_id, pin, supports="stamps")
        return self._operation_result(*self._redeem_stamps(shop, staff, order_ref=order_ref))

    def earn_points(self, amount, order_ref=None, shop_id=None, currency_id=None, staff_pin_id=None, pin=None):
        """Earn points for a purchase of ``amount``; idempotent per ``order_ref``."""
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("earn")
        shop = self._get_shop(shop_id)
        staff = self._authorize(shop, staff_pin_id, pin, supports="points", pin_required=False)
        currency = self.env["res.currency"].browse(int(currency_id)) if currency_id else None
        return self._operation_result(self._earn(amount, shop, currency=currency, staff=staff, order_ref=order_ref))

    def redeem_reward(self, reward_id, shop_id=None, order_ref=None, staff_pin_id=None, pin=None):
        """Spend points on a reward of the catalog; returns the one-time redemption code."""
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("redeem")
        shop = self._get_shop(shop_id)
        reward = self._get_reward(reward_id)
        staff = self._authorize(shop, staff_pin_id, pin, supports="points", pin_required=False, reward=reward)
        return self._operation_result(*self._redeem_reward(reward, shop, staff, order_ref=order_ref))

    def adjust_points(self, points, reason):
        """Manager correction of the points balance, with a mandatory reason."""
        return self._adjust("points", points, reason)

    def adjust_stamps(self, stamps, reason):
        """Manager correction of the stamp card (a stamp forgotten at the till, a card damaged),
        with a mandatory reason."""
        return self._adjust("stamps", stamps, reason)

    def _adjust(self, unit, amount, reason):
        """A manager's correction of the card's ``unit`` ("points" or "stamps") by ``amount``."""
        self.ensure_one()
        stamps = unit == "stamps"
        self.env["loyalty_plus.rate_limit"]._check("adjust")
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can adjust a balance."))
        self.check_access("write")
        if not (reason or "").strip():
            raise LoyaltyPlusRefusal("validation_error", self.env._("Say why the balance is adjusted."))
        try:
            amount = int(amount)
        except (TypeError, ValueError):
            raise LoyaltyPlusRefusal(
                "validation_error",
                self.env._("The adjustment must be a whole number of stamps.")
                if stamps
                else self.env._("The adjustment must be a whole number of points."),
            ) from None
        if not amount:
            raise LoyaltyPlusRefusal(
                "validation_error",
                self.env._("An adjustment of zero stamps changes nothing.")
                if stamps
                else self.env._("An adjustment of zero points changes nothing."),
            )
        if stamps:
            self.sudo().program_id._check_operable(supports="stamps")
        self._lock()
        balance = self.stamp_count if stamps else self.points_balance
        if balance + amount < 0:
            if stamps:
                message = self.env._(
                    "The card has %(count)s stamps: it cannot lose %(stamps)s.", count=balance, stamps=-amount
                )
            else:
                message = self.env._(
                    "The card has %(balance)s points: it cannot lose %(points)s.", balance=balance, points=-amount
                )
            raise LoyaltyPlusRefusal(f"insufficient_{unit}", message)
        tx = self._apply_ledger(
            {
                "transaction_type": "stamp_adjusted" if stamps else "points_adjusted",
                "stamps_delta" if stamps else "points_delta": amount,
                "shop_id": self.env.company.id,
                "note": reason.strip(),
                "admin_user_id": self.env.uid,
            },
            lock=False,
        )
        return self._operation_result(tx)

    # ------------------------------------------------------------------
    # Private operations: the caller vouched for the user's rights on ``shop`` and for the staff
    # member (a PIN, or the grant of a till); each checks the card and the operation's rules
    # ------------------------------------------------------------------

    def _stamp(self, shop, staff=None, order_ref=None):
        """One stamp, within the program's cooldown and daily limit; returns the ledger row."""
        self.ensure_one()
        self._check_operable(shop, supports="stamps")
        program = self.sudo().program_id
        self._lock()
        now = fields.Datetime.now()
        if program.stamp_cooldown_minutes and self.last_stamp_date:
            ready = self.last_stamp_date + timedelta(minutes=program.stamp_cooldown_minutes)
            if ready > now:
                minutes = math.ceil((ready - now).total_seconds() / 60)
                raise LoyaltyPlusRefusal(
                    "cooldown_active",
                    self.env._("Too soon: the next stamp is possible in %(minutes)s minutes.", minutes=minutes),
                    retry_after=int((ready - now).total_seconds()) + 1,
                )
        if program.max_stamps_per_day:
            stamps_today = self._count_stamps_since(self._start_of_merchant_day(now))
            if stamps_today >= program.max_stamps_per_day:
                raise LoyaltyPlusRefusal(
                    "daily_limit",
                    self.env._(
                        "Daily limit reached: this card already got %(count)s stamps today.", count=stamps_today
                    ),
                )
        return self._apply_ledger(
            {
                "transaction_type": "stamp_earned",
                "stamps_delta": 1,
                "shop_id": shop.id,
                "staff_pin_id": staff.id if staff else False,
                "order_ref": order_ref or False,
            },
            lock=False,
        )

    def _earn(self, amount, shop, currency=None, staff=None, order_ref=None):
        """The points of a purchase of ``amount`` (no lines: the program's rules on the order as
        a whole), once per ``order_ref``; returns its points row (the first one, with
        ``replayed`` in the context, when the order already earned)."""
        self.ensure_one()
        self._check_operable(shop, supports="points")
        program = self.sudo().program_id
        amount = program._convert_purchase(amount, currency)
        rows = self._earn_order(
            [{"product_id": False, "qty": 1, "price_incl": amount, "price_excl": amount}],
            shop,
            staff=staff,
            order_ref=order_ref,
            include_stamps=False,
            checked=True,
        )
        points_rows = rows.filtered(lambda row: row.transaction_type == "points_earned")
        if not points_rows:
            program._check_minimum_purchase(amount)
        return points_rows[:1] or rows[:1]

    def _earn_order(
        self,
        lines,
        shop,
        currency=None,
        staff=None,
        order_ref=None,
        include_stamps=True,
        stamps_approved=True,
        now=None,
        checked=False,
    ):
        """What an order of ``lines`` (``[{"product_id", "qty", "price_incl", "price_excl"}]``,
        line totals after discounts, loyalty lines left out) earns by the program's rules and
        campaigns, once per ``order_ref``: one ledger row per effect, naming its rule or campaign.
        ``stamps_approved`` False (a PIN was needed and not given) earns the points only. ``now``
        is when the sale happened (an offline till syncs later: the campaigns of that time apply).
        ``checked``: the caller checked the card and program for ``shop`` already.
        Returns the rows, with the computation's ``loyalty_plus_notes`` and
        ``loyalty_plus_campaigns`` in their context (``loyalty_plus_replayed`` on a replay)."""
        self.ensure_one()
        if not checked:
            self._check_operable(shop)
        program = self.sudo().program_id
        lines = program._normalize_lines(lines, currency)
        self._lock()
        Transaction = self.env["loyalty_plus.transaction"]
        if order_ref:
            # asked of every earning, found in the rare replay: the bare query, no domain to build
            done = Transaction.sudo().browse(
                row_id
                for (row_id,) in self.env.execute_query(
                    SQL(
                        """SELECT id FROM loyalty_plus_transaction
                            WHERE program_id = %s AND order_ref = %s AND transaction_type IN %s ORDER BY id""",
                        program.id,
                        order_ref,
                        tuple(program._get_order_earning_types()),
                    )
                )
            )
            if done:
                if done.card_id != self:
                    raise LoyaltyPlusRefusal(
                        "order_already_used",
                        self.env._("Order %(ref)s already earned points on another card.", ref=order_ref),
                    )
                return done.with_env(self.env).with_context(
                    loyalty_plus_replayed=True, loyalty_plus_campaigns=tuple(done.campaign_id.mapped("name"))
                )
        result = program._compute_earnings(
            self, lines, shop, now=now, include_stamps=include_stamps, stamps_approved=stamps_approved
        )
        effects = self._claim_campaign_uses(result["effects"])
        values_list = []
        for index, effect in enumerate(effects):
            values = {
                "transaction_type": effect["transaction_type"],
                "points_delta": effect["points"],
                "stamps_delta": effect["stamps"],
                "bank_delta": effect["bank_delta"],
                "earning_rule_id": effect["earning_rule_id"] or False,
                "campaign_id": effect["campaign_id"] or False,
                "amount": effect["amount"] if effect["points"] else 0.0,
                "shop_id": shop.id,
                "staff_pin_id": staff.id if staff else False,
                "order_ref": order_ref or False,
                "note": effect["label"],
            }
            if index == len(effects) - 1:
                values["points_fraction"] = result["points_fraction"]
            values_list.append(values)
        rows = self._apply_ledger_rows(values_list, lock=False) if values_list else Transaction
        rows = rows.with_context(
            loyalty_plus_notes=tuple(result["notes"]),
            loyalty_plus_campaigns=tuple(campaign["name"] for campaign in result["campaigns"]),
        )
        self._on_order_earned(order_ref, result, rows)
        return rows

    def _claim_campaign_uses(self, effects):
        """Count the order against the caps of its campaigns, one by one under the campaign's
        row lock (the last use of a capped campaign goes to one order only); the effects of a
        campaign whose cap was reached meanwhile are dropped."""
        claimed, refused = set(), set()
        for effect in effects:
            campaign_id = effect["campaign_id"]
            if not campaign_id or campaign_id in claimed or campaign_id in refused:
                continue
            campaign = self.env["loyalty_plus.campaign"].sudo().browse(campaign_id)
            if not campaign.max_uses:
                claimed.add(campaign_id)
                continue
            campaign.flush_recordset(["use_count"])
            self.env.cr.execute(
                SQL(
                    """UPDATE loyalty_plus_campaign SET use_count = coalesce(use_count, 0) + 1
                        WHERE id = %s AND coalesce(use_count, 0) < max_uses RETURNING id""",
                    campaign_id,
                )
            )
            (claimed if self.env.cr.fetchone() else refused).add(campaign_id)
            campaign.invalidate_recordset(["use_count"])
        return [effect for effect in effects if effect["campaign_id"] not in refused]

    def _get_sale_stamps_within_limits(self, stamps_due, now, notes):
        """How many of the ``stamps_due`` of a sale the card may get now: none within the cooldown,
        at most what is left of the daily limit. Says why in ``notes``."""
        self.ensure_one()
        if stamps_due <= 0:
            return 0
        card = self.sudo()
        program = card.program_id
        if program.stamp_cooldown_minutes and card.last_stamp_date:
            ready = card.last_stamp_date + timedelta(minutes=program.stamp_cooldown_minutes)
            if ready > now:
                minutes = math.ceil((ready - now).total_seconds() / 60)
                notes.append(
                    self.env._("No stamps: the next stamp is possible in %(minutes)s minutes.", minutes=minutes)
                )
                return 0
        if program.max_stamps_per_day:
            left = max(program.max_stamps_per_day - self._count_stamps_since(self._start_of_merchant_day(now)), 0)
            if left < stamps_due:
                notes.append(
                    self.env._("Daily limit: %(given)s of %(due)s stamps given today.", given=left, due=stamps_due)
                )
                return left
        return stamps_due

    def _void_order_earnings(self, order_ref, returned_lines, remaining_lines, shop, note=None):
        """Take back what the returned lines of the order ``order_ref`` earned, ``remaining_lines``
        being what the order keeps after this refund and the ones before it: of each points row,
        what it holds beyond what the remaining lines stand for (the program's
        ``_get_points_kept``: a rule's row loses what the returned items it counted earned, a
        campaign's multiplier follows the points it multiplied, a fixed bonus goes once what
        remains misses its conditions); the item stamps of the returned items, the visit stamps
        when what remains no longer qualifies, and their spend in the spend bank (a stamp taken
        back when the bank would go below zero). Once nothing of the order remains, the
        promotions it used count no more against their caps. Returns the rows written."""
        self.ensure_one()
        card = self.sudo()
        program = card.program_id
        self._check_operable(shop)
        self._lock()
        Transaction = self.env["loyalty_plus.transaction"].sudo()
        rows = Transaction.search(
            [
                ("card_id", "=", self.id),
                ("order_ref", "=", order_ref),
                ("transaction_type", "in", program._get_order_earning_types()),
            ],
            order="id",
        )
        voids = Transaction.search([("origin_transaction_id", "in", rows.ids)]) if rows else Transaction
        returned = program._prepare_order(card, program._normalize_lines(returned_lines), shop)
        remaining_lines = program._normalize_lines(remaining_lines)
        remaining = program._prepare_order(card, remaining_lines, shop)
        remaining_base = remaining["base"]
        written = Transaction
        currency = program.currency_id
        # points, row by row: what the row holds beyond what the remaining lines stand for
        points_rows = rows.filtered(lambda r: r.points_delta > 0 and r.amount)
        kept = program._get_points_kept(remaining, points_rows)
        for row in points_rows:
            held = row.amount + sum(voids.filtered(lambda v, row=row: v.origin_transaction_id == row).mapped("amount"))
            back = held if currency.is_zero(kept[row.id]) else currency.round(held - kept[row.id])
            if currency.compare_amounts(back, 0) <= 0:
                continue
            try:
                with self.env.cr.savepoint():
                    result = row.with_env(self.env)._void(shop, amount=back, note=note, up_to_remaining=True)
            except LoyaltyPlusRefusal:
                continue  # returned in full already
            written |= Transaction.browse(result["transaction_id"])
        # stamps, by what the rule gives on what remains
        rules = {rule["id"]: rule for rule in returned["rules"]}
        stamps_left = card.stamp_count
        for row in rows.filtered(lambda r: r.transaction_type in ("stamp_earned", "stamp_progress")):
            taken_before = -sum(
                voids.filtered(lambda v, row=row: v.origin_transaction_id == row).mapped("stamps_delta")
            )
            rule = rules.get(row.earning_rule_id.id)
            stamps_back, bank_delta = 0, 0.0
            if rule and rule["type"] == "stamps_visit":
                if not (remaining_base > 0 and currency.compare_amounts(remaining_base, rule["minimum_amount"]) >= 0):
                    stamps_back = row.stamps_delta - taken_before
            elif rule and rule["type"] == "stamps_item":
                back = sum(
                    math.floor(q + 1e-9) for p, c, q, _a in returned["lines"] if program._line_matches(rule, p, c)
                )
                stamps_back = min(back * rule["stamps"], row.stamps_delta - taken_before)
            elif rule and rule["type"] == "stamps_spend":
                spent_back = sum(a for p, c, _q, a in returned["lines"] if program._line_matches(rule, p, c))
                bank = card.stamp_bank - spent_back
                while bank < 0 and stamps_back + rule["stamps"] <= stamps_left:
                    stamps_back += rule["stamps"]
                    bank += rule["spend_step"]
                bank_delta = currency.round(max(bank, 0.0) - card.stamp_bank)
            elif row.campaign_id and row.stamps_delta and not remaining["lines"]:
                # a campaign's stamps follow the order's: gone when nothing of the order qualifies
                stamps_back = row.stamps_delta - taken_before
            stamps_back = max(min(stamps_back, stamps_left), 0)
            if not stamps_back and currency.is_zero(bank_delta):
                continue
            written |= self._apply_ledger(
                {
                    "transaction_type": "stamp_voided",
                    "stamps_delta": -stamps_back,
                    "bank_delta": bank_delta,
                    "shop_id": shop.id,
                    "origin_transaction_id": row.id,
                    "earning_rule_id": row.earning_rule_id.id,
                    "campaign_id": row.campaign_id.id,
                    "note": note,
                },
                lock=False,
            )
            stamps_left -= stamps_back
        if not any(line["qty"] > 0 for line in remaining_lines):
            written |= self._give_back_promotions(order_ref, shop, note)
        self._give_back_campaign_uses(rows, voids)
        self._on_order_refunded(order_ref, remaining_base)
        return written

    def _give_back_campaign_uses(self, rows, voids_before):
        """The capped earning campaigns whose rows of the order this refund took back in full
        count the order no more in all (the per-member count skips such rows by itself), once:
        a bonus whose conditions what remains misses, or the whole order returned."""
        Transaction = self.env["loyalty_plus.transaction"].sudo()
        rows = rows.filtered(lambda row: row.campaign_id.max_uses and row.transaction_type != "promotion")
        if not rows:
            return
        voids_after = Transaction.search([("origin_transaction_id", "in", rows.ids)])

        def holds(campaign, voids):
            mine = rows.filtered(lambda row: row.campaign_id == campaign)
            mine |= voids.filtered(lambda void: void.origin_transaction_id in mine)
            return sum(mine.mapped("points_delta")) + sum(mine.mapped("stamps_delta")) > 0

        rows.campaign_id.filtered(
            lambda campaign: holds(campaign, voids_before) and not holds(campaign, voids_after)
        )._give_back_use()

    def _give_back_promotions(self, order_ref, shop, note=None):
        """The order ``order_ref`` came back in full: the discount promotions it used count no more
        against their caps, in all and per member (a "promotion" row voiding the one of the use),
        once. A partial return keeps the use: the customer keeps the discount on what remains.
        Returns the rows written."""
        self.ensure_one()
        Transaction = self.env["loyalty_plus.transaction"].sudo()
        used = Transaction.search(
            [
                ("card_id", "=", self.id),
                ("order_ref", "=", order_ref),
                ("transaction_type", "=", "promotion"),
                ("origin_transaction_id", "=", False),
            ],
            order="id",
        )
        if used:
            used -= Transaction.search([("origin_transaction_id", "in", used.ids)]).origin_transaction_id
        if not used:
            return Transaction
        used.campaign_id._give_back_use()
        return self._apply_ledger_rows(
            [
                {
                    "transaction_type": "promotion",
                    "campaign_id": row.campaign_id.id,
                    "origin_transaction_id": row.id,
                    "amount": -row.amount,
                    "shop_id": shop.id,
                    "note": "\n".join(
                        filter(None, [self.env._("Promotion given back: %(name)s", name=row.campaign_id.name), note])
                    ),
                }
                for row in used
            ],
            lock=False,
        )

    def _use_promotion(self, campaign, shop, order_ref, lines, now=None):
        """Record that the order ``order_ref`` of ``lines`` used the discount promotion
        ``campaign`` (checked again at ``now``, the time of the sale; its caps counted), once per
        order. Returns the ledger row."""
        self.ensure_one()
        self._check_operable(shop)
        program = self.sudo().program_id
        lines = program._normalize_lines(lines)
        self._lock()
        Transaction = self.env["loyalty_plus.transaction"]
        done = Transaction.sudo().search(
            [
                ("program_id", "=", program.id),
                ("order_ref", "=", order_ref),
                ("transaction_type", "=", "promotion"),
                ("campaign_id", "=", campaign.id),
            ],
            limit=1,
        )
        if done:
            return done.with_env(self.env).with_context(loyalty_plus_replayed=True)
        values = campaign._check_promotion(self, lines, shop, now=now)
        if not self._claim_campaign_uses([{"campaign_id": campaign.id}]):
            raise LoyaltyPlusRefusal(
                "promotion_cap_reached",
                self.env._("The promotion %(name)s was used as often as it may be.", name=campaign.sudo().name),
            )
        return self._apply_ledger(
            {
                "transaction_type": "promotion",
                "campaign_id": campaign.id,
                "shop_id": shop.id,
                "order_ref": order_ref or False,
                "amount": values["amount"],
                "note": campaign.sudo().name,
            },
            lock=False,
        )

    def _on_order_earned(self, order_ref, result, transactions):
        """Hook called after an order's first earning (``result`` of ``_compute_earnings``, the
        rows written): referrals extend it."""

    def _on_order_refunded(self, order_ref, remaining_base):
        """Hook called after a refund of the order ``order_ref`` took back its earnings, with what
        the order still amounts to on the program's tax base."""

    def _redeem_reward(self, reward, shop, staff=None, order_ref=None):
        """Spend the points of ``reward``; returns ``(ledger row, redemption)``."""
        self.ensure_one()
        self._check_operable(shop, supports="points")
        self._lock()
        self._check_can_pay_rewards(reward)
        if reward.limited_stock:
            reward.flush_recordset(["stock_qty"])
            self.env.cr.execute(
                SQL(
                    """UPDATE loyalty_plus_reward SET stock_qty = stock_qty - 1
                        WHERE id = %s AND stock_qty > 0 RETURNING id""",
                    reward.id,
                )
            )
            if not self.env.cr.fetchone():
                raise LoyaltyPlusRefusal(
                    "reward_unavailable", self.env._("The reward %(reward)s is out of stock.", reward=reward.name)
                )
            reward.invalidate_recordset(["stock_qty"])
        tx = self._apply_ledger(
            {
                "transaction_type": "points_redeemed",
                "points_delta": -reward.points_cost,
                "shop_id": shop.id,
                "staff_pin_id": staff.id if staff else False,
                "order_ref": order_ref or False,
                "reward_id": reward.id,
            },
            lock=False,
        )
        return tx, self.env["loyalty_plus.redemption"].sudo()._issue(tx, reward.name, reward=reward)

    def _redeem_stamps(self, shop, staff=None, order_ref=None, count=1):
        """Spend ``count`` full stamp cards on the stamp reward; returns ``(ledger row, redemption)``."""
        self.ensure_one()
        self._check_operable(shop, supports="stamps")
        program = self.sudo().program_id
        self._lock()
        self._check_stamp_rewards_ready(count)
        tx = self._apply_ledger(
            {
                "transaction_type": "stamp_redeemed",
                "stamps_delta": -program.stamps_target * count,
                "shop_id": shop.id,
                "staff_pin_id": staff.id if staff else False,
                "order_ref": order_ref or False,
            },
            lock=False,
        )
        return tx, self.env["loyalty_plus.redemption"].sudo()._issue(tx, program.stamps_reward_description)

    def _operation_result(self, transaction, redemption=None):
        """What a till, the website or the API answers after an operation on the card."""
        self.ensure_one()
        result = {"ok": True, "card": self._get_summary(), "transaction_id": transaction.id}
        if transaction.transaction_type == "stamp_earned":
            result["reward_ready"] = self._stamp_rewards_ready()
        elif transaction.transaction_type in ("points_earned", "points_voided"):
            result["points"] = transaction.points_delta
        if redemption:
            result["code"] = redemption.code
        if transaction.env.context.get("loyalty_plus_replayed"):
            result["replayed"] = True
        return result

    # ------------------------------------------------------------------
    # Rules: each written once, asked by every operation, summary, till and API
    # ------------------------------------------------------------------

    def _authorize(self, shop, staff_pin_id, pin, supports=None, pin_required=True, reward=None):
        """The checks of an operation before it runs, in the order whose refusal a caller sees:
        the card and program, the reward asked for, then the staff member and the PIN (a wrong PIN
        counts only when nothing else refused). Returns the staff member."""
        card = self._check_operable(shop, supports=supports)
        if reward is not None and reward.program_id != card.sudo().program_id:
            raise self._reward_not_found()
        return card._check_staff(staff_pin_id, pin, shop, required=pin_required)

    def _get_reward(self, reward_id):
        """The reward ``reward_id`` (its program is checked against the card's by the operation)."""
        self.ensure_one()
        try:
            reward_id = int(reward_id)
        except (TypeError, ValueError):
            raise self._reward_not_found() from None
        # an archived reward is "not available", not unknown; the card's program vouches for the
        # reward: no record-rule query on the hot path
        Reward = self.env["loyalty_plus.reward"].sudo().with_context(active_test=False)
        if reward_id in self.sudo().program_id._prefetch_catalog().ids:
            return Reward.browse(reward_id)
        return Reward.search([("id", "=", reward_id)], limit=1)

    def _reward_not_found(self):
        return LoyaltyPlusRefusal(
            "reward_not_found",
            self.env._("This reward is not part of the program %(program)s.", program=self.sudo().program_id.name),
        )

    def _get_reward_refusal_code(self, rewards, committed=0):
        """Why the card cannot pay ``rewards`` now (a refusal code), or False; ``committed`` points
        are already promised to other rewards of the same order."""
        self.ensure_one()
        card = self.sudo()
        program = card.program_id
        for reward in rewards:
            if reward.program_id != program:
                return "reward_not_found"
            if not reward._is_available():
                return "reward_unavailable"
        balance = card.points_balance - committed
        if balance < max(sum(reward.points_cost for reward in rewards), program.minimum_redemption_points):
            return "insufficient_points"
        return False

    def _check_can_pay_rewards(self, rewards, committed=0):
        """Refuse rewards the card cannot pay now, with the reason (see ``_get_reward_refusal_code``)."""
        code = self._get_reward_refusal_code(rewards, committed)
        if not code:
            return
        if code == "reward_not_found":
            raise self._reward_not_found()
        if code == "reward_unavailable":
            unavailable = rewards.filtered(lambda r: not r._is_available())
            raise LoyaltyPlusRefusal(
                code, self.env._("The reward %(reward)s is not available now.", reward=unavailable[:1].name)
            )
        program = self.sudo().program_id
        balance = self.points_balance - committed
        if balance < program.minimum_redemption_points:
            raise LoyaltyPlusRefusal(
                code,
                self.env._(
                    "Rewards can be redeemed from %(minimum)s points; this card has %(balance)s.",
                    minimum=program.minimum_redemption_points,
                    balance=balance,
                ),
            )
        raise LoyaltyPlusRefusal(
            code,
            self.env._(
                "Not enough points: the card has %(balance)s, %(reward)s costs %(cost)s.",
                balance=balance,
                reward=", ".join(rewards.mapped("name")),
                cost=sum(reward.points_cost for reward in rewards),
            ),
            balance=balance,
        )

    def _stamp_rewards_ready(self, count=1):
        """Whether the card holds ``count`` full stamp cards."""
        self.ensure_one()
        program = self.sudo().program_id
        return program.has_stamps and self.stamp_count >= program.stamps_target * count

    def _check_stamp_rewards_ready(self, count=1):
        if count < 1 or not self._stamp_rewards_ready(count):
            program = self.sudo().program_id
            raise LoyaltyPlusRefusal(
                "insufficient_stamps",
                self.env._(
                    "Not enough stamps: %(count)s of %(target)s.",
                    count=self.stamp_count,
                    target=program.stamps_target * max(count, 1),
                ),
            )

    # ------------------------------------------------------------------
    # Business helpers
    # ------------------------------------------------------------------

    @api.model
    def _generate_card_number(self):
        while True:
            body = f"{secrets.randbelow(9 * 10**10) + 10**10}"
            number = body + luhn_check_digit(body)
            if not self.sudo().with_context(active_test=False).search_count([("card_number", "=", number)], limit=1):
                return number

    @api.model
    def _get_shop(self, shop_id=None):
        """The shop acting: ``shop_id`` if the user may act for it, else the current company."""
        if not shop_id:
            return self.env.company
        shop = self.env["res.company"].browse(int(shop_id))
        if shop.id not in self.env.user._get_company_ids():  # cached per user, no query on the hot path
            raise AccessError(self.env._("You cannot act for this shop."))
        return shop

    @api.model
    def _find(self, query, shop):
        """The card ``query`` designates in the merchant of ``shop`` (number, QR, email, phone)."""
        query = (query or "").strip()
        if not query:
            return self.browse()
        # the merchant of a shop the user may act for (``_get_shop``) is all the company rule of
        # cards asks: search without it (its parent_of reads the wide company rows at every scan)
        self.browse().check_access("read")
        Card = self.sudo()
        base = [("company_id", "=", shop._loyalty_plus_merchant().id)]
        digits = normalize_card_number(query)
        if is_valid_card_number(digits):
            # what the summary and the operations read of the card comes with the search
            card = Card._search_fetch_summary([*base, ("card_number", "=", digits)], limit=1)
            if card:
                return card.with_env(self.env)
        if "@" in query:
            # exact: a typed email is not a pattern (``=ilike`` would read "%" and "_" as wildcards)
            partner_domain = [("partner_id.email_normalized", "=", email_normalize(query) or query.lower())]
        else:
            # any usual form of the number ("661 781 848", "00352661781848"): its stored forms,
            # found through the index on the customers' phone
            phones = self.env["res.partner"]._loyalty_plus_phone_forms(query, shop._loyalty_plus_phone_country())
            if not phones:
                return self.browse()
            partner_domain = [("partner_id.phone", "in", phones)]
        cards = Card._search_fetch_summary([*base, *partner_domain], limit=AMBIGUOUS_LIMIT)
        if len(cards.partner_id) > 1:
            # an email or a phone number shared by several customers: guessing would stamp, earn
            # or redeem on a stranger's card
            raise LoyaltyPlusRefusal(
                "ambiguous_customer",
                self.env._(
                    "Several customers share %(query)s: search by card number instead.",
                    query=shorten(query, 60, placeholder="…"),
                ),
            )
        if len(cards) > 1:
            # one customer with a card per shop: the one of this shop
            cards = cards.filtered(lambda c: c.shop_id == shop)[:1]
        return cards.with_env(self.env)

    def _search_fetch_summary(self, domain, limit):
        """``search_fetch`` of what a summary and the operations read of the cards (``SUMMARY_FIELDS``)
        and of their holders' names, in one query: every answer to a till or a client names the
        customer."""
        query = self._search(domain, limit=limit)
        holder = query.make_alias(self._table, "summary_holder")  # apart from a join of the domain
        query.add_join(
            "JOIN",
            holder,
            "res_partner",
            SQL("%s = %s", SQL.identifier(self._table, "partner_id"), SQL.identifier(holder, "id")),
        )
        card_fields = [self._fields[name] for name in SUMMARY_FIELDS]
        rows = self.env.execute_query(
            query.select(
                SQL.identifier(self._table, "id"),
                *(self._field_to_sql(self._table, field.name, query) for field in card_fields),
                SQL.identifier(holder, "name"),
            )
        )
        if not rows:
            return self.browse()
        ids, *card_values, names = zip(*rows, strict=True)
        cards = self.browse(ids)
        for field, values in zip(card_fields, card_values, strict=True):
            field._insert_cache(cards, values)
        Partner = self.env["res.partner"]
        Partner._fields["name"]._insert_cache(Partner.browse(card_values[SUMMARY_FIELDS.index("partner_id")]), names)
        return cards

    def _get_by_query(self, query, shop):
        """The card ``query`` designates in the merchant of ``shop``, else a refusal saying why:
        ``card_not_found``, ``card_of_other_merchant`` or ``card_inactive``."""
        card = self._find(query, shop)
        if card:
            return card
        digits = normalize_card_number(query)
        if is_valid_card_number(digits):
            card_sudo = self.sudo().with_context(active_test=False).search([("card_number", "=", digits)], limit=1)
            if card_sudo and card_sudo.company_id != shop._loyalty_plus_merchant():
                raise LoyaltyPlusRefusal("card_of_other_merchant", self.env._("This card belongs to another merchant."))
            if card_sudo:
                raise LoyaltyPlusRefusal(
                    "card_inactive", self.env._("The card %(card)s is not active.", card=card_sudo.card_number)
                )
        raise LoyaltyPlusRefusal(
            "card_not_found",
            self.env._("No card matches %(query)s.", query=shorten(query or "", 60, placeholder="…")),
        )

    def _check_operable(self, shop, supports=None):
        """Refuse operations on inactive cards or programs, on cards of another merchant or of
        another shop, and on a program without ``supports`` ("stamps" or "points")."""
        self.ensure_one()
        # The company rule of cards comes down to "the card's merchant is the merchant of a shop of
        # the user": ``_get_shop`` vouched for the shop, the merchant check below does the rest,
        # so only the access rights are left to check (no rule query on the tills' hot path).
        self.browse().check_access("write")
        card = self.sudo()
        if card.company_id != shop._loyalty_plus_merchant():
            self.check_access("write")  # a card the user may not see at all is an access error
            raise LoyaltyPlusRefusal("card_of_other_merchant", self.env._("This card belongs to another merchant."))
        # the program first: archiving a program also archives its cards
        card.program_id._check_operable(supports)
        if not card.active:
            raise LoyaltyPlusRefusal(
                "card_inactive", self.env._("The card %(card)s is not active.", card=card.card_number)
            )
        if not card.cross_location and card.shop_id != shop:
            raise LoyaltyPlusRefusal(
                "wrong_shop",
                self.env._("This card is valid only in %(shop)s, where it was issued.", shop=card.shop_id.name),
            )
        return self

    def _check_staff(self, staff_pin_id, pin, shop, required=True):
        """The staff member of ``staff_pin_id`` once their PIN is checked (an empty recordset when
        none is given and the program does not require one, or ``required`` is false)."""
        program = self.sudo().program_id
        Staff = self.env["loyalty_plus.staff_pin"]
        if not staff_pin_id:
            if required and program.require_staff_pin:
                raise LoyaltyPlusRefusal("staff_pin_required", self.env._("A staff PIN is required."))
            return Staff
        try:
            staff_pin_id = int(staff_pin_id)
        except (TypeError, ValueError):
            staff_pin_id = 0
        staff = (
            Staff.sudo()
            .with_context(active_test=False)
            # by id only: the model's order (by shop) would join the companies for nothing
            .search_fetch([("id", "=", staff_pin_id)], STAFF_FIELDS, limit=1, order="id")
        )
        if not staff or staff.program_id != program:
            raise LoyaltyPlusRefusal("staff_not_found", self.env._("Unknown staff member."))
        staff._check_pin(pin, shop)
        return staff

    def _lock(self):
        """Row-lock the cards so concurrent operations on them run one after the other.

        The values already read stay valid: transactions are REPEATABLE READ, so a card changed
        by another transaction since ours began makes the lock fail with a serialization error
        (and Odoo replays the request) instead of handing us a newer row than the one read."""
        self.env.cr.execute(SQL("SELECT id FROM loyalty_plus_card WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))

    def _start_of_merchant_day(self, now):
        tz = pytz.timezone(self.sudo().company_id.partner_id.tz or self.env.user.tz or "UTC")
        local_midnight = tz.localize(datetime.combine(pytz.utc.localize(now).astimezone(tz).date(), time.min))
        return local_midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _count_stamps_since(self, since):
        self.ensure_one()
        self.env["loyalty_plus.transaction"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT coalesce(sum(stamps_delta), 0) FROM loyalty_plus_transaction
                    WHERE card_id = %s AND transaction_type = 'stamp_earned' AND create_date >= %s""",
                self.id,
                since,
            )
        )
        return self.env.cr.fetchone()[0]

    def _get_points_earned_12_months(self):
        self.ensure_one()
        self.env["loyalty_plus.transaction"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT coalesce(sum(points_delta), 0) FROM loyalty_plus_transaction
                    WHERE card_id = %s AND points_delta > 0
                      AND transaction_type IN %s AND create_date >= %s""",
                self.id,
                tuple(self.env["loyalty_plus.transaction"]._get_earning_types()),
                fields.Datetime.now() - timedelta(days=365),
            )
        )
        return self.env.cr.fetchone()[0]

    def _apply_ledger(self, values, lock=True):
        """Write one ledger row of ``values`` (``loyalty_plus.transaction`` fields: at least
        ``transaction_type``, and ``stamps_delta``/``points_delta``) and move the card's balances by
        the same deltas, atomically. Returns the row."""
        return self._apply_ledger_rows([values], lock=lock)

    def _apply_ledger_rows(self, values_list, lock=True):
        """Write the ledger rows of one operation (``_apply_ledger`` values each; an order earns one
        row per rule and campaign) in one INSERT, and move the card's balances by their sums in one
        UPDATE, atomically. ``points_fraction`` in a row's values sets the card's fraction of a
        point. Returns the rows."""
        self.ensure_one()
        if lock:
            self._lock()
        Transaction = self.env["loyalty_plus.transaction"]
        earning_types = Transaction._get_earning_types()
        sums = dict.fromkeys(
            ("stamps", "stamps_earned", "stamps_redeemed", "points", "earned", "redeemed", "voided", "expired"), 0
        )
        bank, fraction = 0.0, None
        is_stamp = is_points = is_activity = False
        stamps_after, points_after = self.stamp_count, self.points_balance
        vals_list = []
        for values in values_list:
            values = dict(values)
            if "points_fraction" in values:
                fraction = values.pop("points_fraction")
            vals = self._prepare_transaction_vals(values)
            kind, stamps, points = vals["transaction_type"], vals["stamps_delta"], vals["points_delta"]
            stamps_after += stamps
            points_after += points
            vals["stamps_after"], vals["points_after"] = stamps_after, points_after
            sums["stamps"] += stamps
            if kind == "stamp_earned" or (kind == "stamp_adjusted" and stamps > 0):
                sums["stamps_earned"] += stamps
            if kind in ("stamp_redeemed", "stamp_refunded"):
                sums["stamps_redeemed"] -= stamps
            sums["points"] += points
            if points > 0 and (kind in earning_types or kind == "points_adjusted"):
                sums["earned"] += points
            if kind in ("points_redeemed", "points_refunded"):
                sums["redeemed"] -= points
            if kind == "points_voided" or (kind == "points_adjusted" and points < 0):
                sums["voided"] -= points
            if kind == "points_expired":
                sums["expired"] -= points
            bank += vals.get("bank_delta") or 0.0
            is_stamp |= kind == "stamp_earned"
            is_points |= bool(points) and kind != "points_expired"
            is_activity |= kind != "points_expired"
            vals_list.append(vals)
        rows = Transaction.sudo()._insert_rows(vals_list)
        self.flush_recordset(UPDATED_FIELDS)  # pending ORM writes first: the SQL below moves the balances
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_card SET
                    stamp_count = stamp_count + %(stamps)s,
                    total_stamps_earned = total_stamps_earned + %(stamps_earned)s,
                    total_stamps_redeemed = total_stamps_redeemed + %(stamps_redeemed)s,
                    points_balance = points_balance + %(points)s,
                    total_points_earned = total_points_earned + %(earned)s,
                    total_points_redeemed = total_points_redeemed + %(redeemed)s,
                    total_points_voided = total_points_voided + %(voided)s,
                    total_points_expired = total_points_expired + %(expired)s,
                    last_stamp_date = CASE WHEN %(is_stamp)s THEN %(now)s ELSE last_stamp_date END,
                    last_points_date = CASE WHEN %(is_points)s THEN %(now)s ELSE last_points_date END,
                    last_activity_date = CASE WHEN %(is_activity)s THEN %(now)s ELSE last_activity_date END,
                    stamp_bank = coalesce(stamp_bank, 0) + %(bank)s,
                    points_fraction = coalesce(%(fraction)s, points_fraction),
                    write_date = %(now)s,
                    write_uid = %(uid)s
                 WHERE id = %(id)s
             RETURNING %(returning)s""",
                returning=SQL(", ").join(SQL.identifier(name) for name in UPDATED_FIELDS),
                **sums,
                bank=bank,
                fraction=fraction,
                is_stamp=is_stamp,
                is_points=is_points,
                is_activity=is_activity,
                now=fields.Datetime.now(),
                uid=self.env.uid,
                id=self.id,
            )
        )
        # the new values go straight to the cache: the summary that follows needs no read
        self._update_cache(dict(zip(UPDATED_FIELDS, self.env.cr.fetchone(), strict=True)), validate=False)
        if sums["earned"]:
            self._update_tier()
        rows = rows.with_env(self.env)
        self._on_balance_changed(rows)
        return rows

    def _prepare_transaction_vals(self, values):
        """The whole ledger row for ``values``: the card's own fields, the balances after, who and
        where (the card's shop unless ``shop_id`` is given), and the request's origin."""
        from odoo.http import request

        vals = {
            "stamps_delta": 0,
            "points_delta": 0,
            "shop_id": self.shop_id.id,
            "user_id": self.env.uid,
            "currency_id": self.program_id.currency_id.id,
            **{name: value for name, value in values.items() if value is not None},
            "card_id": self.id,
            "program_id": self.program_id.id,
            "company_id": self.company_id.id,
        }
        vals["stamps_after"] = self.stamp_count + vals["stamps_delta"]
        vals["points_after"] = self.points_balance + vals["points_delta"]
        if request:
            vals["request_ip"] = request.httprequest.remote_addr
            vals["user_agent"] = (request.httprequest.user_agent.string or "")[:255]
        return vals

    def _update_tier(self):
        """Move the card up after an earning (the daily review moves cards down)."""
        self.ensure_one()
        card_sudo = self.sudo()  # tiers are read by the engine for its own card: no record-rule query
        current = card_sudo.tier_id.threshold_points if card_sudo.tier_id else -1
        above = [t.threshold_points for t in card_sudo.program_id.tier_ids if t.threshold_points > current]
        # the points of 12 months never exceed the lifetime ones: most earnings need no 12-month sum
        if not above or self.total_points_earned < min(above):
            return
        if not card_sudo.program_id.company_id._loyalty_plus_has_plan_feature("tiers"):
            return  # a plan without tiers keeps the tiers reached, it moves no card up
        tier = card_sudo.program_id._get_tier_for_points(self._get_points_earned_12_months())
        if tier != self.tier_id:
            self.env.cr.execute(
                SQL("UPDATE loyalty_plus_card SET tier_id = %s WHERE id = %s", tier.id or None, self.id)
            )
            self.invalidate_recordset(["tier_id"])

    def _on_balance_changed(self, transactions):
        """Hook called after every ledger movement with the ``transactions`` rows it wrote (one, or
        one per effect of an order's earning): wallet passes, webhooks and notifications extend it;
        the expiry calls ``_on_points_expired`` instead."""

    @api.model
    def _on_points_expired(self, card_ids):
        """Set-based hook of the expiry: ``card_ids`` lost their points in one statement
        (its ``RETURNING``), without a ledger movement per card through ``_apply_ledger``."""

    def _on_tiers_reviewed(self):
        """Hook called with the cards the tier review moved to another tier (or to none)."""

    def _on_member_changed(self):
        """Hook called when the name or language of the cards' customer changed."""

    def _get_wallet_links(self):
        """``[{"provider", "label", "url"}]`` to add the card to a phone wallet (the wallet addon fills it)."""
        return []

    def _get_summary(self):
        """What a till, the website or an API client shows of the card."""
        self.ensure_one()
        card = self.sudo()
        program = card.program_id
        catalog = program._prefetch_catalog()
        rewards = catalog.filtered(lambda reward: reward._is_available()) if program.has_points else catalog.browse()
        # customers and companies are wide rows: fetch only the name of each
        partner_name = card.partner_id.with_context(prefetch_fields=False).name or ""
        return {
            "id": card.id,
            "card_number": card.card_number,
            "qr_payload": card.qr_payload,
            "partner_id": card.partner_id.id,
            "first_name": partner_name.split(" ")[0],
            "program_id": program.id,
            "program_type": program.program_type,
            "shop": card.shop_id._loyalty_plus_get_name(),
            "stamps": card.stamp_count,
            "stamps_target": program.stamps_target,
            "stamp_reward": program.stamps_reward_description if program.has_stamps else False,
            "stamp_reward_ready": self._stamp_rewards_ready(),
            "points": card.points_balance,
            "stamp_bank": card.stamp_bank,
            "to_next_stamp": card.stamp_bank_to_next,
            "tier": card.tier_id.name or False,
            "active": card.active,
            "referral_code": card.referral_code or False,
            # the link to share only where inviting a friend earns something (as the portal shows it)
            "referral_link": (program._offers_referral_bonus() and card.referral_code and card.referral_url) or False,
            "rewards": [
                {
                    "id": reward.id,
                    "name": reward.name,
                    "points_cost": reward.points_cost,
                    "kind": reward.reward_kind,
                    "redeemable": not self._get_reward_refusal_code(reward),
                }
                for reward in rewards
            ],
        }

    @api.model
    def enroll(self, name, email, phone=None, birthday=None, shop_id=None, marketing_consent=False, lang=None):
        """Enroll a customer in the program of the shop's merchant (till, API); returns the card
        summary with ``created``."""
        self.env["loyalty_plus.rate_limit"]._check("enroll")
        shop = self._get_shop(shop_id)
        self.check_access("create")
        card, created = self._enroll_customer(
            {"name": name, "email": email, "phone": phone, "birthday": birthday, "lang": lang},
            shop,
            marketing_consent=marketing_consent,
        )
        return dict(card._get_summary(), created=created)

    @api.model
    def _enroll_customer(self, member_values, shop, marketing_consent=False, program=None):
        """The one enrollment of the till, the API and the website: validates the customer's
        details (``name``, ``email``, ``phone``, ``birthday``, ``lang``), finds the merchant's
        customer by email or creates one, then gives them the merchant's card (the existing one,
        as the merchant's settings say) with their consent to the terms recorded now.
        Returns ``(card, created)``."""
        partner = self.env["res.partner"]._loyalty_plus_find_or_create(
            merchant=shop._loyalty_plus_merchant(), **member_values
        )
        card, created = self._enroll(partner, shop, program)
        if created:
            card.sudo().write(
                {"marketing_consent": bool(marketing_consent), "terms_accepted_date": fields.Datetime.now()}
            )
        return card, created

    @api.model
    def _enroll(self, partner, shop, program=None):
        """The card of ``partner`` for ``shop``'s merchant: the existing one when the merchant's
        settings say the customer already has it, else a new one. Returns ``(card, created)``."""
        program = program or self.env["loyalty_plus.program"]._get_for_shop(shop)
        if not program:
            raise LoyaltyPlusRefusal(
                "program_inactive", self.env._("%(shop)s has no active loyalty program.", shop=shop.name)
            )
        program._check_operable()
        Card = self.sudo().with_context(active_test=False)
        domain = [("partner_id", "=", partner.id), ("company_id", "=", program.company_id.id)]
        if not program.sudo().company_id.loyalty_plus_cross_location:
            domain.append(("shop_id", "=", shop.id))
        existing = Card.search(domain, limit=1)
        if existing:
            return existing.with_env(self.env), False
        card = self.create({"partner_id": partner.id, "program_id": program.id, "shop_id": shop.id})
        return card, True
