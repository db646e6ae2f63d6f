from odoo import models


class SpreadsheetDashboard(models.Model):
    _inherit = "spreadsheet.dashboard"

    def _get_serialized_readonly_dashboard(self):
        # the Loyalty+ dashboard is part of the analytics of the merchant's plan
        if self == self.env.ref("loyalty_plus_dashboard.spreadsheet_dashboard_loyalty_plus", raise_if_not_found=False):
            self.env.company._loyalty_plus_check_plan_feature("analytics")
        return super()._get_serialized_readonly_dashboard()
