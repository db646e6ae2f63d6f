from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tools import SQL


class LoyaltyPlusReferral(models.Model):
    """A member invited a friend with their referral code: once the friend's first qualifying
    purchase is paid, both cards get the program's referral bonuses, once.

    A referral from a card that already brought more new members this week than the program's
    ``referral_weekly_flag`` is flagged: its bonuses wait until a manager approves it."""

    _name = "loyalty_plus.referral"
    _description = "Loyalty+ referral"
    _order = "referral_date desc, id desc"
    _rec_name = "referred_card_id"
    _check_company_auto = True

    referrer_card_id = fields.Many2one(
        "loyalty_plus.card",
        string="Invited by",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    referred_card_id = fields.Many2one(
        "loyalty_plus.card", string="New member", required=True, readonly=True, ondelete="cascade", check_company=True
    )
    referrer_partner_id = fields.Many2one(related="referrer_card_id.partner_id", string="Referrer")
    referred_partner_id = fields.Many2one(related="referred_card_id.partner_id", string="Referred customer")
    program_id = fields.Many2one("loyalty_plus.program", required=True, readonly=True, index=True)
    company_id = fields.Many2one(related="program_id.company_id", string="Merchant", store=True, index=True)
    state = fields.Selection(
        [("pending", "Pending"), ("rewarded", "Rewarded"), ("refused", "Refused"), ("reversed", "Reversed")],
        required=True,
        default="pending",
        readonly=True,
        index=True,
        help="Pending: waits for the new member's first qualifying purchase (and, when flagged, a "
        "manager's approval). Rewarded: both bonuses were paid. Refused: the referral broke a rule. "
        "Reversed: the qualifying purchase was refunded and both bonuses were taken back.",
    )
    refusal_code = fields.Selection(
        [
            ("self_referral", "Self-referral"),
            ("shared_email", "Shared email"),
            ("shared_phone", "Shared phone"),
            ("manager", "Refused by a manager"),
        ],
        readonly=True,
    )
    reason = fields.Text(readonly=True)
    referral_date = fields.Datetime(
        string="Joined on", required=True, readonly=True, default=fields.Datetime.now, help="When the friend joined"
    )
    order_ref = fields.Char(string="Qualifying purchase", readonly=True, index="btree_not_null")
    qualified_date = fields.Datetime(
        string="Qualified on", readonly=True, help="When the first qualifying purchase was paid"
    )
    flagged = fields.Boolean(
        readonly=True,
        help="More referrals than the program allows per week came from this card: the bonuses wait "
        "for a manager's approval",
    )
    approved_uid = fields.Many2one("res.users", string="Approved by", readonly=True)
    approved_date = fields.Datetime(readonly=True)
    rewarded_date = fields.Datetime(readonly=True)
    transaction_ids = fields.Many2many(
        "loyalty_plus.transaction",
        "loyalty_plus_referral_transaction_rel",
        "referral_id",
        "transaction_id",
        string="Ledger",
        readonly=True,
    )

    _referred_once = models.UniqueIndex("(referred_card_id)", "This card was already referred by another member.")
    _referrer_date_idx = models.Index("(referrer_card_id, referral_date)")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_rewarded(self):
        if any(referral.state in ("rewarded", "reversed") for referral in self):
            raise UserError(self.env._("A referral that paid bonuses is part of the ledger's history: it stays."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_approve(self):
        """A manager vouches for a flagged referral: it pays as soon as it qualifies (now, when the
        new member's first qualifying purchase is already paid)."""
        self.ensure_one()
        self._check_manager()
        self._lock_with_card()
        if self.state != "pending" or not self.flagged:
            raise UserError(self.env._("Only a flagged referral that waits can be approved."))
        referral_sudo = self.sudo()
        referral_sudo.write({"flagged": False, "approved_uid": self.env.uid, "approved_date": fields.Datetime.now()})
        if referral_sudo.qualified_date:
            referral_sudo._pay()
        return True

    def action_refuse(self):
        """A manager refuses a referral that has not paid yet."""
        self.ensure_one()
        self._check_manager()
        self._lock_with_card()
        if self.state != "pending":
            raise UserError(self.env._("Only a referral that waits can be refused."))
        self.sudo().write(
            {
                "state": "refused",
                "refusal_code": "manager",
                "reason": self.env._("Refused by %(user)s.", user=self.env.user.name),
            }
        )
        return True

    def _check_manager(self):
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can approve or refuse a referral."))
        self.check_access("write")

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _lock(self):
        """Row-lock the referrals: two purchases of the new member synced at once (or a sync and a
        manager's approval) run one after the other, so the bonuses are paid once. A referral
        changed since this transaction began fails the lock with a serialization error (the request
        is replayed and reads the new state)."""
        self.flush_recordset()
        self.env.cr.execute(
            SQL("SELECT id FROM loyalty_plus_referral WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids))
        )
        self.invalidate_recordset()

    def _lock_with_card(self):
        """Lock the new member's card, then the referral: the order in which a sync of their
        purchase takes them (the other way round, the two would wait for each other)."""
        self.referred_card_id.sudo()._lock()
        self._lock()

    @api.model
    def _count_recent(self, referrer_card, since):
        """Referrals of ``referrer_card`` since ``since``, refused ones included (an attempt counts)."""
        return self.sudo().search_count([("referrer_card_id", "=", referrer_card.id), ("referral_date", ">=", since)])

    def _is_qualifying(self, base):
        """Whether a purchase of eligible amount ``base`` qualifies for the referral's bonuses."""
        self.ensure_one()
        program = self.sudo().program_id
        return base > 0 and program.currency_id.compare_amounts(base, program.minimum_purchase) >= 0

    def _on_purchase(self, order_ref, base):
        """The new member's purchase ``order_ref`` earned on ``base``: the first qualifying one pays
        both bonuses (a flagged referral records it and waits for a manager)."""
        self.ensure_one()
        if not self._is_qualifying(base):
            return
        self._lock()
        referral_sudo = self.sudo()
        if referral_sudo.state != "pending" or referral_sudo.qualified_date:
            return  # paid, refused or reversed meanwhile, or already waiting with its purchase
        referral_sudo.write({"order_ref": order_ref or False, "qualified_date": fields.Datetime.now()})
        if not referral_sudo.flagged:
            referral_sudo._pay()

    def _pay(self):
        """Both bonuses, as ledger rows naming the referral; the referral is then rewarded."""
        self.ensure_one()
        program = self.program_id
        note = self.env._(
            "Referral: %(referrer)s invited %(referred)s",
            referrer=self.referrer_card_id.card_number,
            referred=self.referred_card_id.card_number,
        )
        rows = self.env["loyalty_plus.transaction"]
        for card, points, stamps in (
            (self.referrer_card_id, program.referral_bonus_points, program.referral_bonus_stamps),
            (self.referred_card_id, program.referred_bonus_points, program.referred_bonus_stamps),
        ):
            points = points if program.has_points else 0
            stamps = stamps if program.has_stamps else 0
            if not (points or stamps) or not card.active:
                continue
            rows |= card._apply_ledger(
                {
                    "transaction_type": "referral_bonus",
                    "points_delta": points,
                    "stamps_delta": stamps,
                    "note": note,
                }
            )
        self.write(
            {
                "state": "rewarded",
                "rewarded_date": fields.Datetime.now(),
                "transaction_ids": [Command.link(row.id) for row in rows],
            }
        )

    def _on_refund(self, order_ref, remaining_base):
        """The qualifying purchase ``order_ref`` was refunded down to ``remaining_base``: when it no
        longer qualifies, the bonuses are taken back (a flagged referral forgets the purchase and
        waits for the next one)."""
        self.ensure_one()
        self._lock()
        referral_sudo = self.sudo()
        if referral_sudo.order_ref != order_ref or referral_sudo._is_qualifying(remaining_base):
            return
        if referral_sudo.state == "pending":
            referral_sudo.write({"order_ref": False, "qualified_date": False})
        elif referral_sudo.state == "rewarded":
            referral_sudo._reverse()

    def _reverse(self):
        """Take both bonuses back (what is left of them on each card) and mark the referral reversed."""
        self.ensure_one()
        note = self.env._("Referral reversed: the qualifying purchase %(order)s was refunded.", order=self.order_ref)
        rows = self.env["loyalty_plus.transaction"]
        for bonus in self.transaction_ids.filtered(lambda row: row.transaction_type == "referral_bonus"):
            card = bonus.card_id
            card._lock()
            points = min(bonus.points_delta, card.points_balance)
            stamps = min(bonus.stamps_delta, card.stamp_count)
            for transaction_type, delta_field, delta in (
                ("points_voided", "points_delta", points),
                ("stamp_voided", "stamps_delta", stamps),
            ):
                if delta > 0:
                    rows |= card._apply_ledger(
                        {
                            "transaction_type": transaction_type,
                            delta_field: -delta,
                            "origin_transaction_id": bonus.id,
                            "note": note,
                        },
                        lock=False,
                    )
        self.write({"state": "reversed", "transaction_ids": [Command.link(row.id) for row in rows]})
