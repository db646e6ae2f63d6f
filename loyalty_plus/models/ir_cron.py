import logging
import time

from odoo import SUPERUSER_ID, api, fields, models, tools

_logger = logging.getLogger(__name__)


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    @tools.ormcache()
    def _loyalty_plus_cron_ids(self):
        """The scheduled actions of Loyalty+'s addons (whatever addon of ours declared them)."""
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search_fetch([("model", "=", "ir.cron"), ("module", "=like", "loyalty_plus%")], ["res_id"])
        )
        return frozenset(data.mapped("res_id"))

    @classmethod
    def _run_job(cls, job):
        """Time each run and keep it (``loyalty_plus.cron.run``) for the Loyalty+ health checks,
        written on a cursor of its own once the run's transactions are over."""
        start_date = fields.Datetime.now()
        started = time.monotonic()
        status = super()._run_job(job)
        duration = time.monotonic() - started
        try:
            with cls.pool.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["loyalty_plus.cron.run"]._record(job, start_date, duration, status)
        except Exception:
            # the health checks then miss a run; the scheduler must go on with the others
            _logger.exception("Loyalty+: the run of job %s could not be recorded", job["id"])
        return status
