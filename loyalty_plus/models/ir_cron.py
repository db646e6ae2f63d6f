import time

from odoo import SUPERUSER_ID, api, fields, models, tools

LOYALTY_PLUS_MODULE_PREFIX = "loyalty_plus"


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    @tools.ormcache()
    def _loyalty_plus_cron_ids(self):
        """The scheduled actions of Loyalty+'s addons (whatever addon of ours declared them)."""
        data = self.env["ir.model.data"].sudo().search_fetch(
            [("model", "=", "ir.cron"), ("module", "=like", f"{LOYALTY_PLUS_MODULE_PREFIX}%")], ["res_id"]
        )
        return frozenset(data.mapped("res_id"))

    @classmethod
    def _run_job(cls, job):
        """Time each run and keep it (``loyalty_plus.cron.run``) for the Loyalty+ health checks,
        written on a cursor of its own after the run's transactions are over."""
        start_date = fields.Datetime.now()
        started = time.monotonic()
        status = super()._run_job(job)
        duration = time.monotonic() - started
        with cls.pool.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["loyalty_plus.cron.run"]._record(job, start_date, duration, status)
        return status
