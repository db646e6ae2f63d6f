from odoo import api, models
from odoo.tools import SQL, drop_view_if_exists

# ledger rows that mean the customer came in and bought: a visit
VISIT_TYPES = ("stamp_earned", "points_earned")
# ledger rows that mean the customer acted (bought or spent a reward): an active member
ACTIVITY_TYPES = ("stamp_earned", "points_earned", "stamp_redeemed", "points_redeemed")


class LoyaltyPlusReportMixin(models.AbstractModel):
    """A report read from a SQL view.

    A report over the whole ledger (millions of rows) is read from a summary: a materialized view
    (``_summary_query``) refreshed by the hourly cron, indexed, and read through a plain view
    (``_query``) that adds what must stay live (the value of a point, the fraud threshold). A report
    over small tables is a plain view only."""

    _name = "loyalty_plus.report.mixin"
    _description = "Loyalty+ report"
    _auto = False
    _summarized = False  # True: the report reads a summary (``_summary_query``) refreshed by the cron

    @property
    def _summary_table(self):
        return f"{self._table}_summary"

    def _summary_query(self):
        """The SQL of the summary to materialize (reports with ``_summarized``)."""
        raise NotImplementedError

    def _summary_indexes(self):
        """Columns indexed on the summary (the first index is unique: it lets the refresh run concurrently)."""
        return [("id",), ("company_id",)]

    def _query(self):
        """The SQL of the report's view (may read ``self._summary_table``)."""
        raise NotImplementedError

    def init(self):
        if self._abstract:
            return
        cr = self.env.cr
        drop_view_if_exists(cr, self._table)
        if self._summarized:
            drop_view_if_exists(cr, self._summary_table)
            cr.execute(
                SQL(
                    "CREATE MATERIALIZED VIEW %s AS (%s)",
                    SQL.identifier(self._summary_table),
                    self._summary_query(),
                )
            )
            for position, columns in enumerate(self._summary_indexes()):
                cr.execute(
                    SQL(
                        "CREATE %s INDEX ON %s (%s)",
                        SQL("UNIQUE") if position == 0 else SQL(),
                        SQL.identifier(self._summary_table),
                        SQL(", ").join(SQL.identifier(column) for column in columns),
                    )
                )
        cr.execute(SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    def _refresh_summary(self):
        """Recompute the summary (readers keep reading the previous one meanwhile)."""
        if not self._summarized:
            return
        self.env.flush_all()
        self.env.cr.execute(SQL("REFRESH MATERIALIZED VIEW CONCURRENTLY %s", SQL.identifier(self._summary_table)))
        self.env.invalidate_all()

    @api.model
    def _refresh_all_summaries(self):
        """Refresh the summary of every Loyalty+ report (tests, after building a ledger)."""
        for model_name in self._get_report_models():
            self.env[model_name].sudo()._refresh_summary()

    @api.model
    def _get_report_models(self):
        return [
            name for name in self.env.registry[self._name]._inherit_children if not self.env.registry[name]._abstract
        ]

    @api.model
    def _cron_refresh_reports(self):
        """Hourly: refresh the summaries, one commit each (a long refresh never blocks the readers)."""
        models_to_refresh = self._get_report_models()
        cron = self.env["ir.cron"]
        for position, model_name in enumerate(models_to_refresh, start=1):
            self.env[model_name].sudo()._refresh_summary()
            if not cron._commit_progress(processed=1, remaining=len(models_to_refresh) - position):
                break
