from odoo import models


class LoyaltyPlusProgramMixin(models.AbstractModel):
    _name = "loyalty_plus.program.mixin"
    _description = "Loyalty+ record of a program"

    def write(self, vals):
        res = super().write(vals)
        if "program_id" in vals:
            # record rules checked the program the record left, not the one it joined
            self.check_access("write")
        return res
