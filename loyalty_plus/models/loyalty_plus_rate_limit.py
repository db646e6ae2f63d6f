import threading
from datetime import timedelta

from odoo import api, fields, models
from odoo.http import request
from odoo.sql_db import Cursor
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal

# Calls per minute and per user of each mutating entry point (seed 003, "rate-limit store mutating endpoints").
# A shop's tills usually share one public IP: the per-IP cap is a multiple of the per-user one.
RATE_LIMITS = {
    "stamp": 60,
    "redeem": 30,
    "void": 20,
    "earn": 60,
    "adjust": 20,
    "unlock": 10,
    "enroll": 20,
}
IP_FACTOR = 5
WINDOW_SECONDS = 60
# Enrollment forms of the merchants' websites, per 10 minutes. Customers who join at the counter
# over the shop's Wi-Fi share one IP address, each with their own email and phone: the cap per
# address is loose, the caps per email address and per device (browser session) are tight.
ENROLLMENT_LIMITS = {"ip": 60, "email": 3, "device": 10}
ENROLLMENT_WINDOW_MINUTES = 10
# Read paths (lookups, history) must write nothing per call, so that a replica can serve them: their
# hits are counted in the worker process and written in batches of this many. The limit may then be
# off by a few calls per process, and no hit is lost while its minute lasts.
READ_FLUSH_HITS = 10
# Writes under a wide cap are batched too (a transaction of its own per call is a tenth of an earn's
# cost), in batches of at most this share of the cap: a tight cap is still counted call by call.
WRITE_BATCH_SHARE = 20
_read_lock = threading.Lock()
_read_pending = {}  # (database, key, window) -> hits counted here, not written yet
_read_known = {}  # (database, key, window) -> the database's count when this process last wrote


class LoyaltyPlusRateLimit(models.Model):
    _name = "loyalty_plus.rate_limit"
    _description = "Loyalty+ rate-limit counter"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    window_start = fields.Datetime(required=True, readonly=True)
    hits = fields.Integer(required=True, default=0, readonly=True)

    _key_window_unique = models.UniqueIndex("(key, window_start)")

    @api.model
    def _get_limit(self, action):
        """Calls per minute and per user allowed for ``action`` (system parameter
        ``loyalty_plus.rate_limit.<action>`` overrides the default; 0 disables the limit)."""
        value = self.env["ir.config_parameter"].sudo().get_param(f"loyalty_plus.rate_limit.{action}")
        try:
            return int(value) if value not in (None, False, "") else RATE_LIMITS[action]
        except ValueError:
            return RATE_LIMITS[action]

    @api.model
    def _check(self, action):
        """Count one call of ``action`` for the calling user and IP; refuse it over the caps.

        Only network callers are limited (server-side code such as crons has no request). The counters
        are written and committed on a cursor of their own, so refused and failed calls count too and
        the rows are locked only for an instant.
        """
        if not request or getattr(request, "loyalty_plus_rate_counted", False):
            return  # no network caller, or an API call the integration's own limit already counted
        limit = self._get_limit(action)
        if limit <= 0:
            return
        keys = []
        user = self.env.user
        if not self.env.su and not user._is_public():
            keys.append((f"{action}:user:{user.id}", limit))
        ip = request.httprequest.remote_addr
        if ip:
            keys.append((f"{action}:ip:{ip}", limit * IP_FACTOR))
        seconds = self._count_hits(keys)
        if seconds:
            self.env["loyalty_plus.rate_limit.refusal"]._count(self.env.company, action)  # health checks
            raise LoyaltyPlusRefusal(
                "rate_limited",
                self.env._("Too many requests: please wait %(seconds)s seconds before trying again.", seconds=seconds),
                retry_after=seconds,
            )

    @api.model
    def _get_enrollment_limit(self, scope):
        """Enrollment form submissions allowed per 10 minutes and per ``scope`` (``ip``, ``email``,
        ``device``); system parameter ``loyalty_plus.rate_limit.web_enroll_<scope>`` overrides the
        default, 0 disables it."""
        value = self.env["ir.config_parameter"].sudo().get_param(f"loyalty_plus.rate_limit.web_enroll_{scope}")
        try:
            return int(value) if value not in (None, False, "") else ENROLLMENT_LIMITS[scope]
        except ValueError:
            return ENROLLMENT_LIMITS[scope]

    @api.model
    def _check_enrollment(self, ip_address=None, email=None, device=None):
        """Count one submission of a website enrollment form for each of ``ip_address``, ``email``
        and ``device`` (an id of the visitor's browser) given; refuse it when one is over its cap
        of the current 10 minutes. Refused submissions count too (their own cursor)."""
        keys = [
            (f"web_enroll:{scope}:{value}", self._get_enrollment_limit(scope))
            for scope, value in (("ip", ip_address), ("email", (email or "").strip().lower()), ("device", device))
            if value
        ]
        keys = [(key, cap) for key, cap in keys if cap > 0]
        if not keys:
            return
        now = fields.Datetime.now()
        window = now.replace(minute=now.minute - now.minute % ENROLLMENT_WINDOW_MINUTES, second=0, microsecond=0)
        hits = self._write_hits({key: 1 for key, _cap in keys}, window)
        if any(hits[key] > cap for key, cap in keys):
            self.env["loyalty_plus.rate_limit.refusal"]._count(self.env.company, "web_enroll")  # health checks
            seconds = int((window + timedelta(minutes=ENROLLMENT_WINDOW_MINUTES) - now).total_seconds())
            raise LoyaltyPlusRefusal(
                "rate_limited",
                self.env._(
                    "Too many enrollment attempts came from your connection. Wait %(minutes)s minutes and try again.",
                    minutes=max(1, -(-seconds // 60)),
                ),
                retry_after=max(1, seconds),
            )

    @api.model
    def _count_hits(self, keys, readonly=False):
        """Count one hit on each ``(key, cap)`` of ``keys`` in the current minute.

        The counters live in the database, so every worker process of the server counts into the
        same ones. They are written and committed on a cursor of their own: refused and failed
        calls count too, and the rows are locked only for an instant. With ``readonly`` (a read
        path) the hits are written in batches (``READ_FLUSH_HITS``), not once per call.

        A write is batched like a read when every cap is wide enough (``WRITE_BATCH_SHARE``): each
        worker process may then let through less than a twentieth of the cap over it.

        :return: the seconds left in the minute when a counter went over its cap, else 0
        """
        if not keys:
            return 0
        now = fields.Datetime.now()
        window = now.replace(second=0, microsecond=0)
        batch = READ_FLUSH_HITS
        if not readonly:
            batch = min(batch, min(cap for _key, cap in keys) // WRITE_BATCH_SHARE)
        if batch > 1:
            hits = self._count_read_hits(keys, window, batch)
        else:
            hits = self._write_hits({key: 1 for key, _cap in keys}, window)
            with _read_lock:
                for key, count in hits.items():
                    _read_known[self.env.cr.dbname, key, window] = count
                    hits[key] = count + _read_pending.get((self.env.cr.dbname, key, window), 0)
        refused = any(hits[key] > cap for key, cap in keys)
        return max(1, WINDOW_SECONDS - now.second) if refused else 0

    @api.model
    def _count_read_hits(self, keys, window, batch=READ_FLUSH_HITS):
        """The hits of ``keys`` as this process knows them, this call included; writes the ones
        that reached ``batch`` (the others wait in the process)."""
        dbname = self.env.cr.dbname
        with _read_lock:
            for stale in [k for k in _read_pending if k[0] == dbname and k[2] != window]:
                del _read_pending[stale]  # a minute that is over limits nothing any more
            for stale in [k for k in _read_known if k[0] == dbname and k[2] != window]:
                del _read_known[stale]
            to_write = {}
            for key, _cap in keys:
                slot = (dbname, key, window)
                _read_pending[slot] = _read_pending.get(slot, 0) + 1
                if _read_pending[slot] >= batch:
                    to_write[key] = _read_pending.pop(slot)
        if to_write:
            written = self._write_hits(to_write, window)
            with _read_lock:
                for key, count in written.items():
                    _read_known[dbname, key, window] = count
        with _read_lock:
            return {
                key: _read_known.get((dbname, key, window), 0) + _read_pending.get((dbname, key, window), 0)
                for key, _cap in keys
            }

    @api.model
    def _write_hits(self, hits, window):
        """Add ``hits`` (``{key: count}``) to the counters of ``window`` on a cursor of their own;
        returns each counter's new total."""
        if self.env.cr.readonly:
            # a read-only request (a lookup): its transaction has written nothing; end it before
            # opening a read/write cursor, like res.device does for its log
            self.env.cr.rollback()
        # one round trip: the settings of the counters' own transaction and all the upserts
        statements = []
        with self.env.registry.cursor() as cr:
            if isinstance(cr, Cursor):  # not a test cursor, which is a savepoint of the test's transaction
                # concurrent hits on one counter wait for each other and add up, instead of failing to
                # serialize as they would in Odoo's repeatable-read transactions
                statements.append(SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
            # a counter is not worth waiting for the disk: losing the last instant of it in a crash is fine
            statements.append(SQL("SET LOCAL synchronous_commit = off"))
            statements.append(
                SQL(
                    """INSERT INTO loyalty_plus_rate_limit (key, window_start, hits) VALUES %s
                       ON CONFLICT (key, window_start) DO UPDATE SET hits = loyalty_plus_rate_limit.hits + EXCLUDED.hits
                       RETURNING key, hits""",
                    SQL(", ").join(SQL("(%s, %s, %s)", key, window, count) for key, count in hits.items()),
                )
            )
            cr.execute(SQL("; ").join(statements))
            return dict(cr.fetchall())

    @api.autovacuum
    def _gc_windows(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM loyalty_plus_rate_limit WHERE window_start < %s",
                fields.Datetime.now() - timedelta(hours=1),
            )
        )
