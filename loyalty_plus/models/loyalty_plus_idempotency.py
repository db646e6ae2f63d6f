import hashlib
import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# Answers are kept at least this long: a client may retry a write for a day.
RETENTION_HOURS = 48


def _canonical(value):
    """``value`` with its whole floats as ints: JSON has one kind of number, so a retry that
    sends ``8.0`` where the first call sent ``8`` (another client library, another serializer)
    is the same request."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value


class LoyaltyPlusIdempotency(models.Model):
    """The first answer to each write of an integration, by the idempotency key the client chose.

    A retry with the same key and the same body gets that answer again and changes nothing; the
    same key with another body is refused. The unique index makes two racing retries wait for
    each other: the second one sees the first one's row once it commits.
    """

    _name = "loyalty_plus.idempotency"
    _description = "Loyalty+ API idempotency record"
    _order = "id desc"
    _log_access = False

    integration_id = fields.Many2one(
        "loyalty_plus.integration", required=True, readonly=True, ondelete="cascade", index=False
    )
    key = fields.Char(required=True, readonly=True)
    operation = fields.Char(required=True, readonly=True)
    request_hash = fields.Char(required=True, readonly=True)
    response = fields.Json(readonly=True)
    create_date = fields.Datetime(readonly=True, index=True)

    _integration_key_unique = models.UniqueIndex(
        "(integration_id, key)", "This idempotency key was already used by this integration."
    )

    @api.model
    def _hash_request(self, operation, params):
        """A stable fingerprint of a call: the operation and its parameters, in canonical JSON."""
        body = json.dumps([operation, _canonical(params)], sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    @api.model
    def _claim(self, integration, key, operation, request_hash):
        """Claim ``key`` for this call. Returns ``(row_id, None)`` when the call is new, else
        ``(row_id, stored)`` with the first call's row (``request_hash``, ``response``).

        The insert waits on the unique index while another transaction holds the same key; if that
        one commits, PostgreSQL refuses this (repeatable read) transaction with a serialization
        failure and the server replays the whole request, which then finds the stored answer.
        """
        rows = self.env.execute_query(
            SQL(
                """INSERT INTO loyalty_plus_idempotency
                          (integration_id, key, operation, request_hash, create_date)
                   VALUES (%s, %s, %s, %s, now() at time zone 'utc')
              ON CONFLICT (integration_id, key) DO NOTHING
                RETURNING id""",
                integration.id,
                key,
                operation,
                request_hash,
            )
        )
        if rows:
            return rows[0][0], None
        rows = self.env.execute_query(
            SQL(
                """SELECT id, operation, request_hash, response FROM loyalty_plus_idempotency
                    WHERE integration_id = %s AND key = %s""",
                integration.id,
                key,
            )
        )
        row_id, stored_operation, stored_hash, response = rows[0]
        return row_id, {"operation": stored_operation, "request_hash": stored_hash, "response": response}

    @api.model
    def _store_response(self, row_id, response):
        self.env.execute_query(
            SQL(
                "UPDATE loyalty_plus_idempotency SET response = %s WHERE id = %s",
                json.dumps(response, default=str),
                row_id,
            )
        )

    @api.model
    def _forget(self, row_id):
        """Drop a claim whose call was refused but must keep its side effects (a wrong PIN)."""
        self.env.execute_query(SQL("DELETE FROM loyalty_plus_idempotency WHERE id = %s", row_id))

    @api.model
    def _cron_purge(self, batch_size=10000):
        """Delete the answers older than the retention period, in batches."""
        before = fields.Datetime.now() - timedelta(hours=RETENTION_HOURS)
        while True:
            purged = self._purge_batch(before, batch_size)
            more = purged == batch_size
            time_left = self.env["ir.cron"]._commit_progress(processed=purged, remaining=int(more))
            if not more or time_left <= 0:
                break

    @api.model
    def _purge_batch(self, before, batch_size):
        """Delete up to ``batch_size`` answers created before ``before``; returns how many."""
        rows = self.env.execute_query(
            SQL(
                """DELETE FROM loyalty_plus_idempotency WHERE id IN (
                       SELECT id FROM loyalty_plus_idempotency WHERE create_date < %s LIMIT %s)
                   RETURNING id""",
                before,
                batch_size,
            )
        )
        self.invalidate_model()
        return len(rows)
