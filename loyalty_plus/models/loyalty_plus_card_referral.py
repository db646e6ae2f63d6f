import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal

# read aloud and typed from a phone without doubt: no I, O, 0 nor 1
REFERRAL_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8
REFERRAL_FLAG_WINDOW = timedelta(days=7)
CODE_BATCH_SIZE = 10000


def normalize_referral_code(value):
    """A typed or pasted referral code ("abcd-2345 ") as stored ("ABCD2345")."""
    return "".join(char for char in (value or "").upper() if char.isalnum())


def random_referral_code():
    return "".join(secrets.choice(REFERRAL_CODE_ALPHABET) for _i in range(REFERRAL_CODE_LENGTH))


class LoyaltyPlusCard(models.Model):
    """Referrals: each card carries a code its member shares; a card enrolled with it is referred."""

    _inherit = "loyalty_plus.card"  # pylint: disable=consider-merging-classes-inherited

    referral_code = fields.Char(readonly=True, copy=False, help="The code this member shares to invite friends")
    referral_url = fields.Char(compute="_compute_referral_url", string="Referral link")
    referred_by_id = fields.Many2one(
        "loyalty_plus.card", string="Invited by", readonly=True, copy=False, index="btree_not_null"
    )
    referral_ids = fields.One2many("loyalty_plus.referral", "referrer_card_id", string="Referrals")
    referral_count = fields.Integer(compute="_compute_referral_count")

    _referral_code_unique = models.UniqueIndex(
        "(referral_code) WHERE referral_code IS NOT NULL", "This referral code is already taken."
    )

    def init(self):
        super().init()
        # cards from before referrals get their code once, when the module is updated (the pages
        # that show it are read paths, served from replicas: they cannot write one)
        self._fill_referral_codes()

    @api.model
    def _fill_referral_codes(self):
        taken = None
        while True:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM loyalty_plus_card WHERE referral_code IS NULL ORDER BY id LIMIT %s",
                    CODE_BATCH_SIZE,
                )
            )
            card_ids = [row[0] for row in self.env.cr.fetchall()]
            if not card_ids:
                return
            if taken is None:
                self.env.cr.execute(SQL("SELECT referral_code FROM loyalty_plus_card WHERE referral_code IS NOT NULL"))
                taken = {row[0] for row in self.env.cr.fetchall()}
            codes = []
            while len(codes) < len(card_ids):
                code = random_referral_code()
                if code not in taken:
                    taken.add(code)
                    codes.append(code)
            self.env.cr.execute(
                SQL(
                    """UPDATE loyalty_plus_card card SET referral_code = new.code
                         FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::varchar[]) AS code) new
                        WHERE card.id = new.id""",
                    card_ids,
                    codes,
                )
            )

    @api.depends("referral_code")
    def _compute_referral_url(self):
        for card in self:
            card.referral_url = card.referral_code and card._get_referral_url()

    def _compute_referral_count(self):
        counts = dict(
            self.env["loyalty_plus.referral"]._read_group(
                [("referrer_card_id", "in", self.ids)], groupby=["referrer_card_id"], aggregates=["__count"]
            )
        )
        for card in self:
            card.referral_count = counts.get(card._origin, 0)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("referral_code"):
                vals["referral_code"] = self._generate_referral_code()
        return super().create(vals_list)

    def action_view_referrals(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_referral_action")
        action["domain"] = ["|", ("referrer_card_id", "=", self.id), ("referred_card_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _generate_referral_code(self):
        while True:
            code = random_referral_code()
            if not self.sudo().with_context(active_test=False).search_count([("referral_code", "=", code)], limit=1):
                return code

    def _get_referral_url(self):
        """The link a member shares: the enrollment page with their code (the website addon knows
        the merchant's page)."""
        self.ensure_one()
        return f"{self.get_base_url()}/loyalty/join?ref={self.sudo().referral_code}"

    def _get_referral_share_text(self):
        """What a member sends a friend along with the link, in the environment's language."""
        self.ensure_one()
        card = self.sudo()
        program = card.program_id
        return self.env._(
            "Join %(program)s at %(merchant)s with my invitation: %(url)s",
            program=program.card_name or program.name,
            merchant=card.company_id.name,
            url=card.referral_url,
        )

    def _register_referral(self, code):
        """This new card was enrolled with the referral ``code``: record who invited it. A code of
        no member of the merchant is refused (``referral_not_found``: the enrollment itself stands);
        a self-referral or a friend sharing the referrer's email or phone is recorded as refused,
        with its reason. Returns the referral."""
        self.ensure_one()
        card_sudo = self.sudo()
        Referral = self.env["loyalty_plus.referral"].sudo()
        existing = Referral.search([("referred_card_id", "=", card_sudo.id)], limit=1)
        if existing:
            return existing
        normalized = normalize_referral_code(code)
        referrer = card_sudo._get_referrer_by_code(normalized, card_sudo.program_id)
        if not referrer or referrer == card_sudo:
            raise LoyaltyPlusRefusal(
                "referral_not_found",
                self.env._(
                    "No member of %(merchant)s has the invitation code %(code)s.",
                    merchant=card_sudo.company_id.name,
                    code=normalized[: REFERRAL_CODE_LENGTH * 2],
                ),
            )
        program = card_sudo.program_id
        refusal_code, reason = referrer._get_referral_refusal(card_sudo)
        recent = Referral._count_recent(referrer, fields.Datetime.now() - REFERRAL_FLAG_WINDOW)
        referral = Referral.create(
            {
                "referrer_card_id": referrer.id,
                "referred_card_id": card_sudo.id,
                "program_id": program.id,
                "state": "refused" if refusal_code else "pending",
                "refusal_code": refusal_code,
                "reason": reason,
                # this one included, more than the program allows in a week: a manager looks first
                "flagged": bool(
                    not refusal_code and program.referral_weekly_flag and recent + 1 > program.referral_weekly_flag
                ),
            }
        )
        card_sudo.referred_by_id = referrer
        return referral

    def _try_register_referral(self, code):
        """``_register_referral`` for an enrollment that came with ``code``: a code that does not
        count loses the invitation, never the new card. Returns ``(referral, refusal)``, one of
        them empty."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                return self._register_referral(code), None
        except LoyaltyPlusRefusal as refusal:
            return self.env["loyalty_plus.referral"], refusal

    @api.model
    def _get_referrer_by_code(self, code, program):
        """The active card of ``program`` whose member shares the referral ``code`` (as typed or
        pasted), or an empty recordset (sudo). Reads only: the join page names who invited the
        visitor with it, before any card exists."""
        normalized = normalize_referral_code(code)
        if not normalized or not program:
            return self.sudo().browse()
        return self.sudo().search([("referral_code", "=", normalized), ("program_id", "=", program.id)], limit=1)

    def _get_referral_refusal(self, referred_card):
        """``(code, reason)`` when this card may not refer ``referred_card``, else ``(False, False)``."""
        self.ensure_one()
        referrer = self.sudo().partner_id
        referred = referred_card.sudo().partner_id
        if referrer == referred:
            return "self_referral", self.env._("A member cannot invite themselves.")
        if referrer.email_normalized and referrer.email_normalized == referred.email_normalized:
            return "shared_email", self.env._("The new member has the email address of the member who invited them.")
        if referrer.phone_sanitized and referrer.phone_sanitized == referred.phone_sanitized:
            return "shared_phone", self.env._("The new member has the phone number of the member who invited them.")
        return False, False

    def _on_order_earned(self, order_ref, result, transactions):
        super()._on_order_earned(order_ref, result, transactions)
        # read with the card's row: no query for the cards nobody invited
        if self.referred_by_id:
            referral = (
                self.env["loyalty_plus.referral"]
                .sudo()
                .search([("referred_card_id", "=", self.id), ("state", "=", "pending")], limit=1)
            )
            if referral:
                referral._on_purchase(order_ref, result.get("base") or 0)

    def _on_order_refunded(self, order_ref, remaining_base):
        super()._on_order_refunded(order_ref, remaining_base)
        if self.referred_by_id and order_ref:
            referral = (
                self.env["loyalty_plus.referral"]
                .sudo()
                .search([("referred_card_id", "=", self.id), ("order_ref", "=", order_ref)], limit=1)
            )
            if referral:
                referral._on_refund(order_ref, remaining_base or 0)

    def _get_mail_values(self):
        values = super()._get_mail_values()
        card_sudo = self.sudo()
        if card_sudo.program_id._offers_referral_bonus() and card_sudo.referral_code:
            values["referral_url"] = card_sudo.referral_url
        return values
