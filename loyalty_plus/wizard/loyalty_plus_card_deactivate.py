from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class LoyaltyPlusCardDeactivate(models.TransientModel):
    _name = "loyalty_plus.card.deactivate"
    _description = "Loyalty+ bulk card deactivation"

    card_ids = fields.Many2many(
        "loyalty_plus.card",
        "loyalty_plus_card_deactivate_card_rel",
        "wizard_id",
        "card_id",
        string="Cards",
        default=lambda self: (
            self.env.context.get("active_ids") if self.env.context.get("active_model") == "loyalty_plus.card" else []
        ),
    )
    reason = fields.Text(required=True, help="Kept on each card and in its history")

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can deactivate cards."))
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the cards are deactivated."))
        cards = self.card_ids.filtered("active")
        if not cards:
            raise UserError(self.env._("Select at least one active card."))
        cards.check_access("write")
        cards.write({"active": False, "deactivation_reason": reason})
        for card in cards:
            card.message_post(body=self.env._("Card deactivated: %(reason)s", reason=reason))
        return {"type": "ir.actions.act_window_close"}
