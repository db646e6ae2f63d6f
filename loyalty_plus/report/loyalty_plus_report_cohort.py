from odoo import fields, models
from odoo.tools import SQL

from .loyalty_plus_report_mixin import ACTIVITY_TYPES

MAX_MONTHS_AFTER = 24  # how far a cohort is followed


class LoyaltyPlusReportCohort(models.Model):
    """Members by month of enrollment, and how many of them were active in each following month.

    A cohort is the members enrolled in one shop of a program in one calendar month; they are
    followed for two years. The share is exact for one shop and program; across several it is the
    average of their shares (the retained and cohort counts add up exactly)."""

    _name = "loyalty_plus.report.cohort"
    _inherit = ["loyalty_plus.report.mixin"]
    _auto = False
    _summarized = True
    _description = "Loyalty+ cohort retention"
    _order = "cohort_month desc, months_after"
    _rec_name = "cohort_month"

    company_id = fields.Many2one("res.company", string="Merchant", readonly=True)
    program_id = fields.Many2one("loyalty_plus.program", string="Program", readonly=True)
    shop_id = fields.Many2one("res.company", string="Shop of enrollment", readonly=True)
    cohort_month = fields.Date(string="Enrolled in", readonly=True)
    months_after = fields.Integer(string="Months after enrollment", readonly=True, aggregator=None)
    month = fields.Date(readonly=True)
    cohort_members = fields.Integer(string="Members enrolled", readonly=True)
    retained_members = fields.Integer(string="Members active", readonly=True)
    retention_rate = fields.Float(string="Active (%)", readonly=True, digits=(16, 1), aggregator="avg")

    def _summary_indexes(self):
        return [("id",), ("company_id",), ("cohort_month",)]

    def _summary_query(self):
        return SQL(
            """
            WITH cohort AS (
                SELECT company_id, program_id, shop_id, date_trunc('month', create_date)::date AS cohort_month,
                       COUNT(*) AS members
                  FROM loyalty_plus_card
              GROUP BY 1, 2, 3, 4
            ), active AS (
                SELECT card.company_id, card.program_id, card.shop_id,
                       date_trunc('month', card.create_date)::date AS cohort_month, activity.month,
                       COUNT(*) AS retained
                  FROM (SELECT DISTINCT card_id, date_trunc('month', create_date)::date AS month
                          FROM loyalty_plus_transaction
                         WHERE transaction_type IN %(activity)s) activity
                  JOIN loyalty_plus_card card ON card.id = activity.card_id
              GROUP BY 1, 2, 3, 4, 5
            )
            SELECT row_number() OVER (ORDER BY cohort.company_id, cohort.program_id, cohort.shop_id,
                                               cohort.cohort_month, months_after) AS id,
                   cohort.company_id, cohort.program_id, cohort.shop_id, cohort.cohort_month, months_after,
                   (cohort.cohort_month + make_interval(months => months_after))::date AS month,
                   cohort.members::int AS cohort_members,
                   COALESCE(active.retained, 0)::int AS retained_members
              FROM cohort
             CROSS JOIN LATERAL generate_series(
                       0,
                       LEAST(%(max_months)s,
                             (extract(year FROM age(date_trunc('month', now() AT TIME ZONE 'UTC'),
                                                    cohort.cohort_month)) * 12
                              + extract(month FROM age(date_trunc('month', now() AT TIME ZONE 'UTC'),
                                                       cohort.cohort_month)))::int)
                   ) AS months_after
         LEFT JOIN active ON active.company_id = cohort.company_id
                         AND active.program_id = cohort.program_id
                         AND active.shop_id = cohort.shop_id
                         AND active.cohort_month = cohort.cohort_month
                         AND active.month = (cohort.cohort_month + make_interval(months => months_after))::date
            """,
            activity=ACTIVITY_TYPES,
            max_months=MAX_MONTHS_AFTER,
        )

    def _query(self):
        return SQL(
            """
            SELECT summary.*, round(100.0 * summary.retained_members / summary.cohort_members, 1) AS retention_rate
              FROM %s summary
            """,
            SQL.identifier(self._summary_table),
        )
