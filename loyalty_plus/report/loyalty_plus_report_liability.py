from odoo import fields, models
from odoo.tools import SQL


class LoyaltyPlusReportLiability(models.Model):
    """What the points not yet spent cost the merchant: the points outstanding times the value of a
    point (a program setting), by shop and month of movement.

    Each month's movement (earned, redeemed, refunded, expired, voided, adjusted) adds up to its net
    change; the net changes of all months add up to the points outstanding, which are the ledger's
    own sum, so the liability reconciles with the ledger to the cent. A shop's outstanding points are
    those it gave less those spent or taken back there."""

    _name = "loyalty_plus.report.liability"
    _inherit = ["loyalty_plus.report.mixin"]
    _auto = False
    _description = "Loyalty+ points liability"
    _order = "month desc, shop_id"
    _rec_name = "month"
    _depends = {"loyalty_plus.program": ["point_value", "currency_id"]}

    company_id = fields.Many2one("res.company", string="Merchant", readonly=True)
    program_id = fields.Many2one("loyalty_plus.program", string="Program", readonly=True)
    shop_id = fields.Many2one("res.company", string="Shop", readonly=True)
    month = fields.Date(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    point_value = fields.Float(string="Value of a point", readonly=True, digits=(16, 4), aggregator=None)
    points_earned = fields.Integer(string="Earned", readonly=True)
    points_redeemed = fields.Integer(string="Redeemed", readonly=True)
    points_refunded = fields.Integer(string="Given back", readonly=True)
    points_expired = fields.Integer(string="Expired", readonly=True)
    points_voided = fields.Integer(string="Voided", readonly=True)
    points_adjusted = fields.Integer(string="Adjusted", readonly=True)
    points_outstanding = fields.Integer(
        string="Points outstanding",
        readonly=True,
        help="The month's net change; all months together: the points outstanding",
    )
    liability = fields.Monetary(readonly=True, help="Points outstanding times the value of a point")

    def _query(self):
        overview = self.env["loyalty_plus.report.overview"]
        return SQL(
            """
            SELECT summary.id, summary.company_id, summary.program_id, summary.shop_id, summary.month,
                   program.currency_id, program.point_value,
                   summary.points_earned, -summary.points_redeemed AS points_redeemed,
                   summary.points_refunded, -summary.points_expired AS points_expired,
                   -summary.points_voided AS points_voided, summary.points_adjusted,
                   summary.points_net AS points_outstanding,
                   summary.points_net * COALESCE(program.point_value, 0) AS liability
              FROM %s summary
              JOIN loyalty_plus_program program ON program.id = summary.program_id
             WHERE summary.points_net != 0 OR summary.points_earned != 0 OR summary.points_redeemed != 0
                OR summary.points_expired != 0 OR summary.points_voided != 0 OR summary.points_adjusted != 0
                OR summary.points_refunded != 0
            """,
            SQL.identifier(overview._summary_table),
        )
