import ast

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class LoyaltyPlusCardBonus(models.TransientModel):
    _name = "loyalty_plus.card.bonus"
    _description = "Loyalty+ bonus points for several cards"

    target = fields.Selection(
        [("selection", "The selected cards"), ("filter", "Every card matching a filter")],
        required=True,
        default="selection",
    )
    card_ids = fields.Many2many(
        "loyalty_plus.card",
        "loyalty_plus_card_bonus_card_rel",
        "wizard_id",
        "card_id",
        string="Cards",
        default=lambda self: (
            self.env.context.get("active_ids") if self.env.context.get("active_model") == "loyalty_plus.card" else []
        ),
    )
    card_domain = fields.Char(string="Filter", default="[]")
    points = fields.Integer(required=True)
    reason = fields.Text(required=True, help="Kept in the ledger with each bonus")
    card_count = fields.Integer(compute="_compute_card_count", string="Cards concerned")

    @api.depends("target", "card_ids", "card_domain")
    def _compute_card_count(self):
        for wizard in self:
            try:
                wizard.card_count = len(wizard._get_cards())
            except UserError:
                wizard.card_count = 0

    def _get_cards(self):
        self.ensure_one()
        if self.target == "selection":
            return self.card_ids
        try:
            domain = ast.literal_eval(self.card_domain or "[]")
        except (ValueError, SyntaxError):
            raise UserError(self.env._("The filter is not a valid domain.")) from None
        return self.env["loyalty_plus.card"].search(domain)

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can grant bonus points."))
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the bonus is granted."))
        if self.points <= 0:
            raise UserError(self.env._("A bonus is a positive number of points."))
        cards = self._get_cards().filtered(lambda c: c.active and c.program_id.has_points)
        if not cards:
            raise UserError(self.env._("No active card of a points program matches."))
        cards.check_access("write")
        for card in cards:
            card._apply_ledger(
                {
                    "transaction_type": "bonus",
                    "points_delta": self.points,
                    "note": reason,
                    "admin_user_id": self.env.user.id,
                }
            )
        return {"type": "ir.actions.act_window_close"}
