from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

RUN_KEEP_DAYS = 30


class LoyaltyPlusCronRun(models.Model):
    """One run of a Loyalty+ scheduled action as the scheduler saw it: when, how long, what it
    reported through ``ir.cron._commit_progress`` and how it ended. The health checks read it."""

    _name = "loyalty_plus.cron.run"
    _description = "Loyalty+ scheduled action run"
    _order = "start_date desc, id desc"
    _rec_name = "cron_id"
    _log_access = False

    cron_id = fields.Many2one("ir.cron", string="Scheduled action", required=True, readonly=True, ondelete="cascade")
    start_date = fields.Datetime(string="Started", required=True, readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    processed = fields.Integer(readonly=True, help="Records the run reported as done")
    remaining = fields.Integer(readonly=True, help="Records the run reported as left for the next run")
    status = fields.Selection(
        [("done", "Done"), ("partial", "Partially done"), ("failed", "Failed")], required=True, readonly=True
    )

    _cron_start_idx = models.Index("(cron_id, start_date DESC)")

    @api.model
    def _record(self, job, start_date, duration, status):
        """Keep the run of ``job`` (the scheduler's row of the cron, with the id of the progress
        row the run started after) when the cron is one of Loyalty+'s."""
        if job["id"] not in self.env["ir.cron"]._loyalty_plus_cron_ids():
            return
        # every loop of the run added a progress row after the one the job was acquired with
        self.env.cr.execute(
            SQL(
                """SELECT COALESCE(SUM(done), 0), (ARRAY_AGG(remaining ORDER BY id DESC))[1]
                     FROM ir_cron_progress
                    WHERE cron_id = %s AND id > %s""",
                job["id"],
                job.get("progress_id") or 0,
            )
        )
        processed, remaining = self.env.cr.fetchone()
        self.sudo().create(
            {
                "cron_id": job["id"],
                "start_date": start_date,
                "duration": duration,
                "processed": processed,
                "remaining": remaining or 0,
                "status": {"fully done": "done", "partially done": "partial"}.get(str(status), "failed"),
            }
        )

    @api.autovacuum
    def _gc_runs(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM loyalty_plus_cron_run WHERE start_date < %s",
                fields.Datetime.now() - timedelta(days=RUN_KEEP_DAYS),
            )
        )
