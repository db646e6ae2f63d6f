from odoo import fields, models
from odoo.tools import SQL

from ..models.loyalty_plus_card_lifecycle import REENGAGEMENT_QUIET_DAYS
from .loyalty_plus_report_mixin import VISIT_TYPES


class LoyaltyPlusReportChurn(models.Model):
    """Members at risk of leaving: inactive for more than twice their own median interval between
    visits, or, with fewer than three visits, for longer than the program's re-engagement delay.

    A visit is a day with a purchase. The visits are summarized by the hourly refresh; who is at
    risk today is decided when the report is read."""

    _name = "loyalty_plus.report.churn"
    _inherit = ["loyalty_plus.report.mixin"]
    _auto = False
    _summarized = True
    _description = "Loyalty+ members at risk"
    _order = "days_inactive desc, id"
    _rec_name = "card_id"
    _depends = {
        "loyalty_plus.card": [
            "active",
            "partner_id",
            "company_id",
            "program_id",
            "shop_id",
            "points_balance",
            "marketing_consent",
            "reengagement_sent_date",
        ],
        "loyalty_plus.program": ["active", "reengagement_days"],
    }

    card_id = fields.Many2one("loyalty_plus.card", string="Card", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", string="Merchant", readonly=True)
    program_id = fields.Many2one("loyalty_plus.program", string="Program", readonly=True)
    shop_id = fields.Many2one("res.company", string="Shop of enrollment", readonly=True)
    visit_count = fields.Integer(string="Visits", readonly=True)
    last_visit = fields.Date(string="Last visit", readonly=True)
    median_interval = fields.Float(
        string="Usual interval (days)",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
        help="The median number of days between two visits of this member",
    )
    threshold_days = fields.Integer(string="At risk after (days)", readonly=True, aggregator="avg")
    days_inactive = fields.Integer(string="Days inactive", readonly=True, aggregator="avg")
    points_balance = fields.Integer(string="Points", readonly=True)
    marketing_consent = fields.Boolean(readonly=True)
    reengagement_sent_date = fields.Datetime(string="Re-engagement sent", readonly=True)

    def _summary_indexes(self):
        return [("id",)]

    def _summary_query(self):
        return SQL(
            """
            WITH visit AS (
                SELECT DISTINCT card_id, create_date::date AS day
                  FROM loyalty_plus_transaction
                 WHERE transaction_type IN %(visit)s
            ), gap AS (
                SELECT card_id, day, day - lag(day) OVER (PARTITION BY card_id ORDER BY day) AS days
                  FROM visit
            )
            SELECT card_id AS id, COUNT(*)::int AS visit_count, MAX(day) AS last_visit,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_interval
              FROM gap
          GROUP BY card_id
            """,
            visit=VISIT_TYPES,
        )

    def _query(self):
        return SQL(
            """
            SELECT card.id, card.id AS card_id, card.partner_id, card.company_id, card.program_id, card.shop_id,
                   COALESCE(summary.visit_count, 0) AS visit_count,
                   COALESCE(summary.last_visit, card.create_date::date) AS last_visit,
                   summary.median_interval,
                   rule.threshold_days,
                   (now() AT TIME ZONE 'UTC')::date - COALESCE(summary.last_visit, card.create_date::date)
                       AS days_inactive,
                   card.points_balance, card.marketing_consent, card.reengagement_sent_date
              FROM loyalty_plus_card card
              JOIN loyalty_plus_program program ON program.id = card.program_id
         LEFT JOIN %(summary)s summary ON summary.id = card.id
             CROSS JOIN LATERAL (
                    SELECT CASE WHEN summary.visit_count >= 3 THEN ceil(2 * summary.median_interval)::int
                                WHEN program.reengagement_days > 0 THEN program.reengagement_days END
                           AS threshold_days
                   ) rule
             WHERE card.active AND program.active
               AND (now() AT TIME ZONE 'UTC')::date - COALESCE(summary.last_visit, card.create_date::date)
                   > rule.threshold_days
            """,
            summary=SQL.identifier(self._summary_table),
        )

    def action_send_reengagement(self):
        """Queue the program's re-engagement email to the selected members who agreed to marketing
        emails and were not sent one in the last quarter (the weekly cron's own rule)."""
        cards = self.card_id
        cards.check_access("write")
        quiet_since = fields.Datetime.subtract(fields.Datetime.now(), days=REENGAGEMENT_QUIET_DAYS)
        due = cards.filtered(lambda card: not card.reengagement_sent_date or card.reengagement_sent_date < quiet_since)
        mailed = due._send_lifecycle_mail("mail_template_reengagement", marketing=True)
        if mailed:
            self.env.cr.execute(
                SQL(
                    "UPDATE loyalty_plus_card SET reengagement_sent_date = %s WHERE id IN %s",
                    fields.Datetime.now(),
                    tuple(mailed.ids),
                )
            )
            mailed.invalidate_recordset(["reengagement_sent_date"])
            self.invalidate_model(["reengagement_sent_date"])
        skipped = len(cards) - len(mailed)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if mailed else "warning",
                "message": self.env._(
                    "Re-engagement email queued for %(mailed)s members; %(skipped)s skipped (no consent, "
                    "no email address, or already sent this quarter).",
                    mailed=len(mailed),
                    skipped=skipped,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
