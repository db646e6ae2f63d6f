from odoo import fields, models
from odoo.tools import SQL

QUICK_REFUND_MINUTES = 60  # a purchase voided this soon after it earned is a quick refund
BURST_STAMPS = 3  # this many stamps on a card ...
BURST_MINUTES = 120  # ... within this long before a redemption make a burst


class LoyaltyPlusReportFraud(models.Model):
    """Each staff member's month in each shop, against the shop's norm.

    Stamps per hour of stamping, manual adjustments, voids, quick refunds (a purchase voided within
    an hour of its earn), redemptions right after a burst of stamps on the card, and the staff PIN's
    locks. A staff member is flagged when their stamps per hour, or their voids and adjustments,
    exceed the program's fraud watch threshold times the shop's norm for the month, or when they
    made a quick refund or served a redemption after a burst. Staff are the PIN holders; an
    operation without a PIN (an adjustment in the back office) counts for the user who made it."""

    _name = "loyalty_plus.report.fraud"
    _inherit = ["loyalty_plus.report.mixin"]
    _auto = False
    _summarized = True
    _description = "Loyalty+ fraud watch"
    _order = "flagged desc, month desc, shop_id"
    _rec_name = "month"
    _depends = {
        "loyalty_plus.program": ["fraud_threshold"],
        "loyalty_plus.staff_pin": ["failed_attempts", "lock_count"],
    }

    company_id = fields.Many2one("res.company", string="Merchant", readonly=True)
    program_id = fields.Many2one("loyalty_plus.program", string="Program", readonly=True)
    shop_id = fields.Many2one("res.company", string="Shop", readonly=True)
    staff_pin_id = fields.Many2one("loyalty_plus.staff_pin", string="Staff member", readonly=True)
    user_id = fields.Many2one("res.users", string="User", readonly=True)
    month = fields.Date(readonly=True)
    stamps = fields.Integer(string="Stamps given", readonly=True)
    stamp_hours = fields.Integer(string="Hours stamping", readonly=True)
    stamps_per_hour = fields.Float(string="Stamps per hour", readonly=True, digits=(16, 1), aggregator="max")
    shop_stamps_per_hour = fields.Float(
        string="Shop's stamps per hour", readonly=True, digits=(16, 1), aggregator="max"
    )
    adjustments = fields.Integer(string="Manual adjustments", readonly=True)
    voids = fields.Integer(readonly=True)
    shop_corrections = fields.Float(
        string="Shop's voids and adjustments per staff member", readonly=True, digits=(16, 1), aggregator="max"
    )
    quick_refunds = fields.Integer(string="Quick refunds", readonly=True)
    burst_redemptions = fields.Integer(string="Redemptions after a burst", readonly=True)
    pin_failures = fields.Integer(string="Wrong PINs (now)", readonly=True, aggregator="max")
    pin_locks = fields.Integer(string="PIN locks (to date)", readonly=True, aggregator="max")
    threshold = fields.Float(string="Threshold", readonly=True, digits=(16, 2), aggregator=None)
    speed_flag = fields.Boolean(string="Fast stamping", readonly=True, aggregator="bool_or")
    corrections_flag = fields.Boolean(string="Many voids or adjustments", readonly=True, aggregator="bool_or")
    flagged = fields.Boolean(readonly=True, aggregator="bool_or")
    flagged_count = fields.Integer(string="Flags", readonly=True)

    def _summary_indexes(self):
        return [("id",), ("company_id",), ("month",)]

    def _summary_query(self):
        staff = SQL("t.staff_pin_id, CASE WHEN t.staff_pin_id IS NULL THEN t.user_id END AS user_id")
        return SQL(
            """
            SELECT row_number() OVER (ORDER BY company_id, program_id, shop_id, staff_pin_id, user_id, month) AS id,
                   company_id, program_id, shop_id, staff_pin_id, user_id, month,
                   SUM(stamps)::int AS stamps, SUM(stamp_hours)::int AS stamp_hours,
                   SUM(adjustments)::int AS adjustments, SUM(voids)::int AS voids,
                   SUM(quick_refunds)::int AS quick_refunds, SUM(burst_redemptions)::int AS burst_redemptions
              FROM (
                    SELECT t.company_id, t.program_id, t.shop_id, %(staff)s,
                           date_trunc('month', t.create_date)::date AS month,
                           COUNT(*) FILTER (WHERE t.transaction_type = 'stamp_earned') AS stamps,
                           COUNT(DISTINCT date_trunc('hour', t.create_date))
                               FILTER (WHERE t.transaction_type = 'stamp_earned') AS stamp_hours,
                           COUNT(*) FILTER (WHERE t.transaction_type = 'points_adjusted') AS adjustments,
                           COUNT(*) FILTER (WHERE t.transaction_type IN ('points_voided', 'stamp_voided')) AS voids,
                           0 AS quick_refunds, 0 AS burst_redemptions
                      FROM loyalty_plus_transaction t
                     WHERE t.transaction_type IN ('stamp_earned', 'points_adjusted', 'points_voided', 'stamp_voided')
                  GROUP BY 1, 2, 3, 4, 5, 6
                 UNION ALL
                    SELECT t.company_id, t.program_id, t.shop_id, %(staff)s,
                           date_trunc('month', t.create_date)::date, 0, 0, 0, 0, COUNT(*), 0
                      FROM loyalty_plus_transaction t
                      JOIN loyalty_plus_transaction origin ON origin.id = t.origin_transaction_id
                     WHERE t.origin_transaction_id IS NOT NULL
                       AND t.transaction_type IN ('points_voided', 'stamp_voided')
                       AND t.create_date - origin.create_date <= make_interval(mins => %(quick)s)
                  GROUP BY 1, 2, 3, 4, 5, 6
                 UNION ALL
                    SELECT t.company_id, t.program_id, t.shop_id, %(staff)s,
                           date_trunc('month', t.create_date)::date, 0, 0, 0, 0, 0, COUNT(*)
                      FROM loyalty_plus_transaction t
                     WHERE t.transaction_type IN ('stamp_redeemed', 'points_redeemed')
                       AND (SELECT COUNT(*) FROM loyalty_plus_transaction s
                             WHERE s.card_id = t.card_id AND s.transaction_type = 'stamp_earned'
                               AND s.create_date <= t.create_date
                               AND s.create_date >= t.create_date - make_interval(mins => %(burst_minutes)s)
                           ) >= %(burst_stamps)s
                  GROUP BY 1, 2, 3, 4, 5, 6
                   ) activity
          GROUP BY company_id, program_id, shop_id, staff_pin_id, user_id, month
            """,
            staff=staff,
            quick=QUICK_REFUND_MINUTES,
            burst_minutes=BURST_MINUTES,
            burst_stamps=BURST_STAMPS,
        )

    def _query(self):
        return SQL(
            """
            WITH measured AS (
                SELECT summary.*, program.fraud_threshold AS threshold,
                       COALESCE(pin.failed_attempts, 0) AS pin_failures, COALESCE(pin.lock_count, 0) AS pin_locks,
                       CASE WHEN summary.stamp_hours > 0
                            THEN round(summary.stamps::numeric / summary.stamp_hours, 1) END AS stamps_per_hour,
                       round(SUM(summary.stamps) OVER shop_month::numeric
                             / NULLIF(SUM(summary.stamp_hours) OVER shop_month, 0), 1) AS shop_stamps_per_hour,
                       round(AVG(summary.voids + summary.adjustments) OVER shop_month, 1) AS shop_corrections
                  FROM %s summary
                  JOIN loyalty_plus_program program ON program.id = summary.program_id
             LEFT JOIN loyalty_plus_staff_pin pin ON pin.id = summary.staff_pin_id
                WINDOW shop_month AS (PARTITION BY summary.program_id, summary.shop_id, summary.month)
            ), flags AS (
                SELECT measured.*,
                       COALESCE(stamps_per_hour > threshold * shop_stamps_per_hour, FALSE) AS speed_flag,
                       (voids + adjustments) > threshold * shop_corrections AS corrections_flag
                  FROM measured
            )
            SELECT flags.*,
                   speed_flag OR corrections_flag OR quick_refunds > 0 OR burst_redemptions > 0 AS flagged,
                   (speed_flag OR corrections_flag OR quick_refunds > 0 OR burst_redemptions > 0)::int
                       AS flagged_count
              FROM flags
            """,
            SQL.identifier(self._summary_table),
        )
