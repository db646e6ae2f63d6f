import secrets

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal

# no 0/O, 1/I/L: codes are read aloud and typed
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # without the dash in the middle: "ABCD-EFGH"


class LoyaltyPlusRedemption(models.Model):
    _name = "loyalty_plus.redemption"
    _description = "Loyalty+ redemption code"
    _order = "id desc"
    _rec_name = "code"
    _check_company_auto = True

    code = fields.Char(required=True, readonly=True, copy=False)
    card_id = fields.Many2one("loyalty_plus.card", required=True, readonly=True, index=True, ondelete="restrict")
    # the card's merchant, written with the row (one INSERT, no UPDATE of a stored related field)
    company_id = fields.Many2one("res.company", string="Merchant", required=True, readonly=True, index=True)
    transaction_id = fields.Many2one("loyalty_plus.transaction", readonly=True, index=True, ondelete="restrict")
    reward_id = fields.Many2one("loyalty_plus.reward", readonly=True, ondelete="restrict")
    description = fields.Char(readonly=True)
    state = fields.Selection(
        selection=[("issued", "To use"), ("used", "Used"), ("cancelled", "Cancelled")],
        default="issued",
        required=True,
        readonly=True,
    )
    used_date = fields.Datetime(readonly=True)
    used_ref = fields.Char(string="Used on", readonly=True)

    _code_unique = models.UniqueIndex("(code)", "This redemption code already exists.")

    @api.model
    def _new_code(self):
        half = CODE_LENGTH // 2
        return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(half)) for _ in range(2))

    @api.model
    def _issue(self, transaction, description, reward=None):
        return self.create(
            {
                "code": self._new_code(),
                "card_id": transaction.card_id.id,
                "company_id": transaction.company_id.id,
                "transaction_id": transaction.id,
                "reward_id": reward.id if reward else False,
                "description": description,
            }
        )

    @api.model
    def _normalize_code(self, code):
        """The stored form of a code as typed or read aloud: "abcd efgh", "ABCDEFGH" and
        " abcd-efgh " are "ABCD-EFGH"."""
        code = "".join(char for char in (code or "").upper() if char.isalnum())
        if len(code) == CODE_LENGTH:
            return f"{code[: CODE_LENGTH // 2]}-{code[CODE_LENGTH // 2 :]}"
        return code

    @api.model
    def _get_usable(self, code, merchant=None, card=None):
        """The issued, unused redemption of ``code`` (of ``merchant`` when given), else a refusal:
        ``validation_error`` (no code), ``voucher_not_found``, ``voucher_not_usable``, and
        ``voucher_of_other_member`` when the order is a member's (``card``) and the code was
        issued to another card: a voucher serves the member it was issued to."""
        code = self._normalize_code(code)
        if not code:
            raise LoyaltyPlusRefusal("validation_error", self.env._("Type the voucher code."))
        domain = Domain("code", "=", code)
        if merchant:
            domain &= Domain("company_id", "=", merchant.id)
        redemption = self.search(domain, limit=1)
        if not redemption:
            raise LoyaltyPlusRefusal("voucher_not_found", self.env._("Unknown voucher code %(code)s.", code=code))
        if redemption.state != "issued":
            raise redemption._not_usable()
        if card and redemption.card_id != card:
            raise LoyaltyPlusRefusal(
                "voucher_of_other_member",
                self.env._(
                    "The voucher %(code)s was issued to another member: it can be used only on that member's order.",
                    code=redemption.code,
                ),
            )
        return redemption

    def _not_usable(self):
        states = dict(self._fields["state"]._description_selection(self.env))
        return LoyaltyPlusRefusal(
            "voucher_not_usable",
            self.env._("The code %(code)s cannot be used: %(state)s.", code=self.code, state=states[self.state]),
        )

    @api.model
    def consume(self, code, used_ref=None):
        """Honour a redemption code once; returns what it gives. A second use is refused."""
        redemption = self._get_usable(code)
        # conditional update: of two tills using the code at once, one wins
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_redemption SET state = 'used', used_date = now() at time zone 'UTC',
                          used_ref = %s WHERE id = %s AND state = 'issued' RETURNING id""",
                used_ref,
                redemption.id,
            )
        )
        if not self.env.cr.fetchone():
            redemption.invalidate_recordset()
            raise redemption._not_usable()
        redemption.invalidate_recordset()
        return {"code": redemption.code, "description": redemption.description, "reward_id": redemption.reward_id.id}

    def _restore(self, used_ref):
        """The order that used the code was returned: the code may be used again. Only a code
        still used by that order comes back (conditional update: not one used again since)."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_redemption SET state = 'issued', used_date = NULL, used_ref = NULL
                    WHERE id = %s AND state = 'used' AND used_ref = %s RETURNING id""",
                self.id,
                used_ref,
            )
        )
        restored = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["state", "used_date", "used_ref"])
        return restored

    def _cancel(self):
        """The reward comes back (a returned order, a void): its code can no longer be used."""
        self.write({"state": "cancelled"})
