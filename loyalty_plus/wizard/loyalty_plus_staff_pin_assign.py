from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class LoyaltyPlusStaffPinAssign(models.TransientModel):
    _name = "loyalty_plus.staff_pin.assign"
    _description = "Loyalty+ staff PINs moved to a shop"

    staff_pin_ids = fields.Many2many(
        "loyalty_plus.staff_pin",
        "loyalty_plus_staff_pin_assign_pin_rel",
        "wizard_id",
        "staff_pin_id",
        string="Staff PINs",
        default=lambda self: (
            self.env.context.get("active_ids")
            if self.env.context.get("active_model") == "loyalty_plus.staff_pin"
            else []
        ),
    )
    shop_id = fields.Many2one("res.company", string="Shop", required=True)

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can assign staff PINs."))
        if not self.staff_pin_ids:
            raise UserError(self.env._("Select at least one staff PIN."))
        if self.shop_id not in self.env.user.company_ids:
            raise AccessError(self.env._("You cannot act for this shop."))
        # the staff PIN checks that the shop belongs to its program's merchant
        self.staff_pin_ids.write({"shop_id": self.shop_id.id})
        return {"type": "ir.actions.act_window_close"}
