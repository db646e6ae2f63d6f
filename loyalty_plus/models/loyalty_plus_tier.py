from odoo import api, fields, models


class LoyaltyPlusTier(models.Model):
    _name = "loyalty_plus.tier"
    _inherit = ["loyalty_plus.program.mixin", "loyalty_plus.catalog.mixin"]
    _description = "Loyalty+ tier"
    _order = "program_id, threshold_points, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one("loyalty_plus.program", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    threshold_points = fields.Integer(
        string="Points over 12 months", required=True, help="Points earned over the last 12 months to reach this tier"
    )
    multiplier = fields.Float(string="Earning multiplier", default=1.0, digits=(16, 2))
    benefits = fields.Text(translate=True)
    color = fields.Char(string="Badge colour")

    _threshold_positive = models.Constraint("CHECK (threshold_points >= 0)", "A tier threshold cannot be negative.")
    _multiplier_positive = models.Constraint("CHECK (multiplier > 0)", "A tier multiplier must be above zero.")
    _threshold_unique = models.UniqueIndex(
        "(program_id, threshold_points)", "Two tiers of a program cannot have the same threshold."
    )

    @api.model_create_multi
    def create(self, vals_list):
        programs = (
            self.env["loyalty_plus.program"].sudo().browse({vals.get("program_id") for vals in vals_list} - {None})
        )
        for merchant in programs.company_id:
            merchant._loyalty_plus_check_plan_feature("tiers")
        return super().create(vals_list)
