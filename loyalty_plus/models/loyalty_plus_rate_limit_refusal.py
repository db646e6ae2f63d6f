import logging
import threading
from datetime import timedelta

from odoo import api, fields, models
from odoo.sql_db import Cursor
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

REFUSAL_KEEP_DAYS = 7
# refusals of read paths wait in the worker process until one of their counters reaches this many, or a
# refusal of a write path (or the autovacuum) writes them all
READ_FLUSH_REFUSALS = 10
_pending_lock = threading.Lock()
_pending = {}  # (database, company id, entry point, window) -> refusals not written yet


class LoyaltyPlusRateLimitRefusal(models.Model):
    """Calls refused by a rate limit (HTTP 429), per shop, entry point and minute: what the health
    check watches (a shop refused more than 100 times a minute is investigated)."""

    _name = "loyalty_plus.rate_limit.refusal"
    _description = "Loyalty+ rate-limit refusals"
    _order = "window_start desc, count desc"
    _rec_name = "entry_point"
    _log_access = False

    company_id = fields.Many2one("res.company", string="Shop", readonly=True, index=True, ondelete="cascade")
    entry_point = fields.Char(required=True, readonly=True, help="The refused operation, e.g. stamp or api:lookup")
    window_start = fields.Datetime(string="Minute", required=True, readonly=True)
    count = fields.Integer(string="Refusals", required=True, default=0, readonly=True)

    _shop_entry_window_unique = models.UniqueIndex("(COALESCE(company_id, 0), entry_point, window_start)")

    @api.model
    def _count(self, company, entry_point, readonly=False):
        """Count one refusal of ``entry_point`` for the shop ``company``. Written on a cursor of its
        own (the refused call is rolled back); on a read path (``readonly``) kept in the process
        and written by batches, so that a refused lookup writes nothing by itself."""
        now = fields.Datetime.now()
        slot = (self.env.cr.dbname, company.id or 0, entry_point, now.replace(second=0, microsecond=0))
        with _pending_lock:
            _pending[slot] = _pending.get(slot, 0) + 1
            if readonly and _pending[slot] < READ_FLUSH_REFUSALS:
                return
        try:
            self._flush_pending()
        except Exception:
            # counting a refusal must never change the refusal the caller gets
            _logger.exception("Loyalty+: rate-limit refusals could not be counted")

    @api.model
    def _flush_pending(self):
        """Write the refusals this process holds for the current database."""
        dbname = self.env.cr.dbname
        with _pending_lock:
            slots = [slot for slot in _pending if slot[0] == dbname]
            counts = {slot: _pending.pop(slot) for slot in slots}
        if not counts:
            return
        if self.env.cr.readonly:
            self.env.cr.rollback()  # a read-only request: end it before opening a read/write cursor
        with self.env.registry.cursor() as cr:
            if isinstance(cr, Cursor):  # not a test cursor (a savepoint of the test's transaction)
                cr.execute(SQL("SET LOCAL synchronous_commit = off"))
            # a shop deleted since the refusal (or rolled back, in a test) is not counted
            cr.execute(
                SQL(
                    """INSERT INTO loyalty_plus_rate_limit_refusal (company_id, entry_point, window_start, count)
                       SELECT refused.company_id, refused.entry_point, refused.window_start, refused.count
                         FROM (VALUES %s) AS refused (company_id, entry_point, window_start, count)
                        WHERE refused.company_id IS NULL
                           OR EXISTS (SELECT 1 FROM res_company WHERE id = refused.company_id)
                       ON CONFLICT (COALESCE(company_id, 0), entry_point, window_start)
                       DO UPDATE SET count = loyalty_plus_rate_limit_refusal.count + EXCLUDED.count""",
                    SQL(", ").join(
                        SQL(
                            "(%s::int, %s::varchar, %s::timestamp, %s::int)",
                            company_id or None,
                            entry_point,
                            window,
                            count,
                        )
                        for (_db, company_id, entry_point, window), count in counts.items()
                    ),
                )
            )

    @api.model
    def _get_peaks(self, since, company_ids=None):
        """``{company id: (refusals in its worst minute since ``since``, that minute, {entry point:
        refusals in that minute})}`` of the shops ``company_ids`` (all when None)."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT company_id, window_start, entry_point, SUM(count)
                     FROM loyalty_plus_rate_limit_refusal
                    WHERE window_start >= %s AND company_id IS NOT NULL AND %s
                 GROUP BY company_id, window_start, entry_point""",
                since,
                SQL("company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL("TRUE"),
            )
        )
        peaks, per_minute = {}, {}
        for company_id, window, entry_point, count in self.env.cr.fetchall():
            per_minute.setdefault((company_id, window), {})[entry_point] = count
        for (company_id, window), entry_points in per_minute.items():
            total = sum(entry_points.values())
            if company_id not in peaks or total > peaks[company_id][0]:
                peaks[company_id] = (total, window, entry_points)
        return peaks

    @api.autovacuum
    def _gc_refusals(self):
        self._flush_pending()
        self.env.cr.execute(
            SQL(
                "DELETE FROM loyalty_plus_rate_limit_refusal WHERE window_start < %s",
                fields.Datetime.now() - timedelta(days=REFUSAL_KEEP_DAYS),
            )
        )
