from odoo import fields, models
from odoo.tools import SQL

from .loyalty_plus_report_mixin import ACTIVITY_TYPES, VISIT_TYPES


class LoyaltyPlusReportOverview(models.Model):
    """The program month by month in each shop: members, visits, stamps and points.

    A shop is where the ledger row was written (a card's shop of enrollment for rows written by a
    cron, such as the expiry); a month is a calendar month in UTC."""

    _name = "loyalty_plus.report.overview"
    _inherit = ["loyalty_plus.report.mixin"]
    _auto = False
    _summarized = True
    _description = "Loyalty+ program overview"
    _order = "month desc, shop_id"
    _rec_name = "month"
    _depends = {"loyalty_plus.program": ["currency_id"]}

    company_id = fields.Many2one("res.company", string="Merchant", readonly=True)
    program_id = fields.Many2one("loyalty_plus.program", string="Program", readonly=True)
    shop_id = fields.Many2one("res.company", string="Shop", readonly=True)
    month = fields.Date(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    new_members = fields.Integer(string="New members", readonly=True)
    active_members = fields.Integer(
        string="Active members", readonly=True, help="Members who bought or spent a reward in the month"
    )
    visits = fields.Integer(readonly=True, help="Days on which a member bought something (stamp or points)")
    stamps_given = fields.Integer(string="Stamps given", readonly=True)
    stamps_redeemed = fields.Integer(string="Stamps redeemed", readonly=True)
    points_earned = fields.Integer(string="Points earned", readonly=True)
    points_redeemed = fields.Integer(string="Points redeemed", readonly=True)
    points_expired = fields.Integer(string="Points expired", readonly=True)
    redemption_rate = fields.Float(
        string="Redemption rate (%)",
        readonly=True,
        aggregator=None,
        digits=(16, 1),
        help="Points redeemed for every hundred points earned",
    )
    member_sales = fields.Monetary(string="Members' purchases", readonly=True)
    member_purchases = fields.Integer(string="Members' purchase count", readonly=True)
    member_basket = fields.Monetary(string="Members' average basket", readonly=True, aggregator=None)
    # the monthly movement of the points, read by the points liability
    points_refunded = fields.Integer(string="Points given back", readonly=True)
    points_voided = fields.Integer(string="Points voided", readonly=True)
    points_adjusted = fields.Integer(string="Points adjusted", readonly=True)
    points_net = fields.Integer(string="Net points", readonly=True)

    def _summary_indexes(self):
        return [("id",), ("company_id",), ("month",)]

    def _summary_query(self):
        return SQL(
            """
            SELECT row_number() OVER (ORDER BY company_id, program_id, shop_id, month) AS id,
                   company_id, program_id, shop_id, month,
                   SUM(new_members)::int AS new_members,
                   SUM(active_members)::int AS active_members,
                   SUM(visits)::int AS visits,
                   SUM(stamps_given)::int AS stamps_given,
                   SUM(stamps_redeemed)::int AS stamps_redeemed,
                   SUM(points_earned)::int AS points_earned,
                   SUM(points_redeemed)::int AS points_redeemed,
                   SUM(points_refunded)::int AS points_refunded,
                   SUM(points_expired)::int AS points_expired,
                   SUM(points_voided)::int AS points_voided,
                   SUM(points_adjusted)::int AS points_adjusted,
                   SUM(points_net)::int AS points_net,
                   SUM(member_sales) AS member_sales,
                   SUM(member_purchases)::int AS member_purchases
              FROM (
                    SELECT t.company_id, t.program_id,
                           COALESCE(t.shop_id, (SELECT c.shop_id FROM loyalty_plus_card c WHERE c.id = t.card_id))
                               AS shop_id,
                           date_trunc('month', t.create_date)::date AS month,
                           0 AS new_members,
                           COUNT(DISTINCT t.card_id) FILTER (WHERE t.transaction_type IN %(activity)s)
                               AS active_members,
                           COUNT(DISTINCT (t.card_id, t.create_date::date)) FILTER (
                               WHERE t.transaction_type IN %(visit)s) AS visits,
                           COALESCE(SUM(t.stamps_delta) FILTER (WHERE t.transaction_type = 'stamp_earned'), 0)
                               AS stamps_given,
                           -COALESCE(SUM(t.stamps_delta) FILTER (WHERE t.transaction_type = 'stamp_redeemed'), 0)
                               AS stamps_redeemed,
                           COALESCE(SUM(t.points_delta) FILTER (WHERE t.transaction_type IN %(earning)s), 0)
                               AS points_earned,
                           -COALESCE(SUM(t.points_delta) FILTER (WHERE t.transaction_type = 'points_redeemed'), 0)
                               AS points_redeemed,
                           COALESCE(SUM(t.points_delta) FILTER (WHERE t.transaction_type = 'points_refunded'), 0)
                               AS points_refunded,
                           -COALESCE(SUM(t.points_delta) FILTER (WHERE t.transaction_type = 'points_expired'), 0)
                               AS points_expired,
                           -COALESCE(SUM(t.points_delta) FILTER (WHERE t.transaction_type = 'points_voided'), 0)
                               AS points_voided,
                           COALESCE(SUM(t.points_delta) FILTER (WHERE t.transaction_type = 'points_adjusted'), 0)
                               AS points_adjusted,
                           SUM(t.points_delta) AS points_net,
                           COALESCE(SUM(t.amount) FILTER (WHERE t.transaction_type = 'points_earned'), 0)
                               AS member_sales,
                           COUNT(*) FILTER (WHERE t.transaction_type = 'points_earned') AS member_purchases
                      FROM loyalty_plus_transaction t
                  GROUP BY 1, 2, 3, 4
                 UNION ALL
                    SELECT card.company_id, card.program_id, card.shop_id,
                           date_trunc('month', card.create_date)::date,
                           COUNT(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
                      FROM loyalty_plus_card card
                  GROUP BY 1, 2, 3, 4
                   ) movements
          GROUP BY company_id, program_id, shop_id, month
            """,
            activity=ACTIVITY_TYPES,
            visit=VISIT_TYPES,
            earning=tuple(self.env["loyalty_plus.transaction"]._get_earning_types()),
        )

    def _query(self):
        return SQL(
            """
            SELECT summary.*, program.currency_id,
                   CASE WHEN summary.points_earned > 0
                        THEN round(100.0 * summary.points_redeemed / summary.points_earned, 1) END
                       AS redemption_rate,
                   CASE WHEN summary.member_purchases > 0
                        THEN round(summary.member_sales / summary.member_purchases, 2) END AS member_basket
              FROM %s summary
              JOIN loyalty_plus_program program ON program.id = summary.program_id
            """,
            SQL.identifier(self._summary_table),
        )
