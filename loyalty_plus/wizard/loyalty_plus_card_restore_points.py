from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class LoyaltyPlusCardRestorePoints(models.TransientModel):
    _name = "loyalty_plus.card.restore_points"
    _description = "Loyalty+ restore of expired points"

    card_id = fields.Many2one("loyalty_plus.card", string="Card", required=True, readonly=True, ondelete="cascade")
    total_points_expired = fields.Integer(related="card_id.total_points_expired")
    points = fields.Integer(string="Points to restore", compute="_compute_points", store=True, readonly=False)
    reason = fields.Text(required=True, help="Kept in the ledger with the adjustment")

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        # its related fields read the card as superuser: only for a card the user may change
        wizards.card_id.check_access("write")
        return wizards

    @api.depends("card_id")
    def _compute_points(self):
        for wizard in self:
            last = (
                self.env["loyalty_plus.transaction"]
                .sudo()
                .search([("card_id", "=", wizard.card_id.id), ("transaction_type", "=", "points_expired")], limit=1)
            )
            wizard.points = -last.points_delta if last else 0

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can restore expired points."))
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the expired points are restored."))
        card = self.card_id
        card.check_access("write")
        if self.points <= 0 or self.points > card.total_points_expired:
            raise UserError(
                self.env._(
                    "Restore between 1 and %(expired)s points (what this card lost to expiry).",
                    expired=card.total_points_expired,
                )
            )
        card._apply_ledger(
            {
                "transaction_type": "points_adjusted",
                "points_delta": self.points,
                "shop_id": card.shop_id.id,
                "note": self.env._("Expired points restored: %(reason)s", reason=reason),
                "admin_user_id": self.env.user.id,
            }
        )
        return {"type": "ir.actions.act_window_close"}
