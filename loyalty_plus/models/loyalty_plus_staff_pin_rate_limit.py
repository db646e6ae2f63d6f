from odoo import models


class LoyaltyPlusStaffPin(models.Model):
    _inherit = "loyalty_plus.staff_pin"

    def action_unlock(self):
        self.env["loyalty_plus.rate_limit"]._check("unlock")
        return super().action_unlock()
