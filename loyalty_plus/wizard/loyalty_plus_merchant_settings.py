from odoo import api, fields, models
from odoo.exceptions import AccessError

# setting on this form: the field of the merchant (root company) that keeps it
MERCHANT_FIELDS = {
    "cross_location": "loyalty_plus_cross_location",
    "self_enrollment": "loyalty_plus_self_enrollment",
    "void_policy": "loyalty_plus_void_policy",
    "pin_max_attempts": "loyalty_plus_pin_max_attempts",
    "pin_lock_minutes": "loyalty_plus_pin_lock_minutes",
}


class LoyaltyPlusMerchantSettings(models.TransientModel):
    """The merchant's Loyalty+ settings for its own managers: Odoo's Settings app saves for
    administrators only, and a merchant's manager may not write companies."""

    _name = "loyalty_plus.merchant.settings"
    _description = "Loyalty+ settings of a merchant"

    company_id = fields.Many2one(
        "res.company",
        string="Merchant",
        required=True,
        readonly=True,
        default=lambda self: self.env.company._loyalty_plus_merchant(),
    )
    cross_location = fields.Boolean(
        string="Cards valid in every shop",
        help="On: one card per customer for the whole merchant, usable in every shop. "
        "Off: one card per customer per shop, usable only where it was enrolled.",
    )
    self_enrollment = fields.Boolean(
        string="Customers may enroll themselves", help="Customers may create their own card on the website"
    )
    void_policy = fields.Selection(
        selection=lambda self: (
            self.env["res.company"]._fields["loyalty_plus_void_policy"]._description_selection(self.env)
        ),
        string="Who may void",
        required=True,
        help="Who can cancel a stamp, a purchase or a redemption from the ledger",
    )
    pin_max_attempts = fields.Integer(string="Wrong PINs before lock")
    pin_lock_minutes = fields.Integer(string="PIN lock (minutes)")
    # shown, never saved from here: the Loyalty administrator sets it on the company
    plan_id = fields.Many2one(
        "loyalty_plus.plan",
        string="Plan",
        readonly=True,
        help="Members, shops and features the merchant's plan includes",
    )

    @api.model
    def default_get(self, fields):
        values = super().default_get(fields)
        # read from a branch too, whose users may not read the merchant's company
        merchant_sudo = (self.env["res.company"].browse(values.get("company_id")) or self.env.company).sudo()
        merchant_sudo = merchant_sudo._loyalty_plus_merchant()
        values.update(
            {field: merchant_sudo[company_field] for field, company_field in MERCHANT_FIELDS.items() if field in fields}
        )
        if "plan_id" in fields:
            values["plan_id"] = merchant_sudo.loyalty_plus_plan_id.id
        return values

    def action_save(self):
        self.ensure_one()
        merchant_sudo = self.company_id.sudo()._loyalty_plus_merchant()
        user = self.env.user
        if not user.has_group("loyalty_plus.group_loyalty_plus_manager") or merchant_sudo not in user.company_ids:
            raise AccessError(
                self.env._(
                    "Only a loyalty manager of %(merchant)s can change its settings.", merchant=merchant_sudo.name
                )
            )
        merchant_sudo.write({company_field: self[field] for field, company_field in MERCHANT_FIELDS.items()})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("The settings of %(merchant)s are saved.", merchant=merchant_sudo.name),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
