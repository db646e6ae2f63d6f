from odoo import api, fields, models

from ..exceptions import LoyaltyPlusRefusal


class LoyaltyPlusCardAdjust(models.TransientModel):
    _name = "loyalty_plus.card.adjust"
    _description = "Loyalty+ balance adjustment"

    card_id = fields.Many2one("loyalty_plus.card", string="Card", required=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one(related="card_id.partner_id")
    points_balance = fields.Integer(related="card_id.points_balance", string="Current balance")
    points = fields.Integer(string="Points to add", help="A negative number takes points off the card")
    has_stamps = fields.Boolean(related="card_id.program_id.has_stamps")
    has_points = fields.Boolean(related="card_id.program_id.has_points")
    stamp_count = fields.Integer(related="card_id.stamp_count", string="Current stamps")
    stamps = fields.Integer(string="Stamps to add", help="A negative number takes stamps off the card")
    reason = fields.Text(required=True, help="Kept in the ledger with the adjustment")

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        # its related fields read the card as superuser: only for a card the user may change
        wizards.card_id.check_access("write")
        return wizards

    def action_apply(self):
        self.ensure_one()
        if not self.points and not self.stamps:
            raise LoyaltyPlusRefusal(
                "validation_error", self.env._("Give the points or the stamps to add or take off.")
            )
        # the card re-checks the manager group, the balance and the reason, and writes the ledger
        # (one row per balance; a refusal of either leaves both as they were)
        if self.stamps:
            self.card_id.adjust_stamps(self.stamps, self.reason)
        if self.points:
            self.card_id.adjust_points(self.points, self.reason)
        return {"type": "ir.actions.act_window_close"}
