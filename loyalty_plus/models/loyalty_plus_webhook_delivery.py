import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta

import requests

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# A receiver gets this long to connect and to answer: a slow or dead endpoint costs the queue
# at most these seconds per delivery, and its next deliveries wait for its backoff.
REQUEST_TIMEOUT = 5
BACKOFF_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min... after the 1st, 2nd, 3rd... failure
BACKOFF_MAX_SECONDS = 6 * 3600
MAX_ATTEMPTS = 12  # about 15 hours of retries, then the delivery is marked failed
DELIVERY_BATCH = 200
ERROR_MAX_LENGTH = 500
USER_AGENT = "LoyaltyPlus-Webhooks/1.0"


def sign_payload(secret, timestamp, body):
    """HMAC-SHA256 (hex) of ``"<timestamp>.<body>"`` with the integration's secret."""
    message = f"{timestamp}.".encode() + (body if isinstance(body, bytes) else body.encode())
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class LoyaltyPlusWebhookDelivery(models.Model):
    """One event to POST to an integration's webhook URL: queued in the transaction that caused it,
    delivered by a cron, retried with exponential backoff, kept as the delivery log."""

    _name = "loyalty_plus.webhook_delivery"
    _description = "Loyalty+ webhook delivery"
    _order = "id desc"
    _check_company_auto = True

    integration_id = fields.Many2one(
        "loyalty_plus.integration", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", string="Merchant", store=True, index=True)
    event = fields.Selection(
        [
            ("card.updated", "Card updated"),
            ("reward.ready", "Reward ready"),
            ("transaction.created", "Transaction created"),
        ],
        required=True,
        readonly=True,
    )
    event_uuid = fields.Char(
        string="Event ID", required=True, readonly=True, default=lambda self: str(uuid.uuid4()), copy=False
    )
    url = fields.Char(string="URL", required=True, readonly=True)
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(string="Payload (formatted)", compute="_compute_payload_text")
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Delivered"), ("failed", "Failed")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True, default=0)
    next_attempt = fields.Datetime(readonly=True, default=fields.Datetime.now, index=True)
    last_attempt = fields.Datetime(readonly=True)
    last_error = fields.Char(readonly=True)
    response_code = fields.Integer(string="Response code", readonly=True)

    @api.depends("payload")
    def _compute_payload_text(self):
        for delivery in self:
            delivery.payload_text = json.dumps(delivery.payload, indent=2, ensure_ascii=False)

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------

    @api.model
    def _enqueue_for_transactions(self, transactions, notified_before):
        """Queue the webhooks of a ledger movement for the card's merchant: each of its
        ``transactions`` (one card's rows), the card's new state, and "reward ready" when the
        movement raised a lifecycle flag (``notified_before``: the card's ``(stamp, points)`` flags
        before the movement)."""
        card_sudo = transactions.card_id.sudo()
        integrations_sudo = (
            self.env["loyalty_plus.integration"]
            .sudo()
            .search([("company_id", "=", card_sudo.company_id.id), ("webhook_url", "!=", False)])
        )
        if not integrations_sudo:
            return
        card = transactions.card_id
        summary = card._get_summary()
        for transaction in transactions:
            self._enqueue(
                integrations_sudo,
                "transaction.created",
                {"transaction": card._get_webhook_transaction_data(transaction), "card": summary},
            )
        self._enqueue(integrations_sudo, "card.updated", {"card": summary})
        card_sudo.invalidate_recordset(["stamp_reward_notified", "points_reward_notified"])
        stamps_before, points_before = notified_before
        ready = []
        if card_sudo.stamp_reward_notified and not stamps_before:
            ready.append("stamps")
        if card_sudo.points_reward_notified and not points_before:
            ready.append("points")
        if ready and card_sudo.active:
            self._enqueue(integrations_sudo, "reward.ready", {"card": summary, "ready": ready})

    @api.model
    def _enqueue(self, integrations, event, data):
        """Queue ``event`` with ``data`` for every integration of ``integrations`` subscribed to it."""
        vals_list = []
        now = fields.Datetime.now()
        integrations_sudo = integrations.sudo().filtered(
            lambda integration: integration.webhook_url and event in integration._get_webhook_events()
        )
        if not integrations_sudo:
            return self.browse()
        # an endpoint that is backing off gets its new events at the end of its backoff
        backoff = dict(
            self.sudo()._read_group(
                [
                    ("integration_id", "in", integrations_sudo.ids),
                    ("state", "=", "pending"),
                    ("attempts", ">", 0),
                    ("next_attempt", ">", now),
                ],
                ["integration_id"],
                ["next_attempt:max"],
            )
        )
        for integration_sudo in integrations_sudo:
            event_uuid = str(uuid.uuid4())
            vals_list.append(
                {
                    "integration_id": integration_sudo.id,
                    "event": event,
                    "event_uuid": event_uuid,
                    "url": integration_sudo.webhook_url.strip(),
                    "payload": {
                        "id": event_uuid,
                        "event": event,
                        "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "merchant_id": integration_sudo.company_id.id,
                        "integration_id": integration_sudo.id,
                        "data": data,
                    },
                    "next_attempt": max(now, backoff.get(integration_sudo) or now),
                }
            )
        deliveries = self.sudo().create(vals_list)
        cron = self.env.ref("loyalty_plus.ir_cron_webhook_delivery", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()
        return deliveries

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------

    @api.model
    def _cron_deliver(self, batch_size=DELIVERY_BATCH):
        """Deliver the due webhooks, one commit per delivery.

        Each delivery has its own short timeout; when an endpoint fails, its other due deliveries
        wait for the same backoff instead of each spending a timeout in this run, so one dead
        endpoint never delays the others."""
        cron = self.env["ir.cron"]
        Delivery = self.sudo()
        domain = [("state", "=", "pending"), ("next_attempt", "<=", fields.Datetime.now())]
        deliveries = Delivery.search(domain, order="next_attempt, id", limit=batch_size)
        cron._commit_progress(remaining=len(deliveries))
        delivered = 0
        failed_integrations = set()
        session = requests.Session()
        try:
            for delivery in deliveries:
                if delivery.integration_id.id in failed_integrations or not delivery._lock_pending():
                    continue
                if delivery._send(session):
                    delivered += 1
                else:
                    failed_integrations.add(delivery.integration_id.id)
                    delivery._postpone_siblings()
                if not cron._commit_progress(processed=1):
                    break  # out of time: the scheduler runs the job again for the rest
        finally:
            session.close()
        return delivered

    def _lock_pending(self):
        """Lock this delivery for the run (skipping one that another worker is sending)."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM loyalty_plus_webhook_delivery WHERE id = %s AND state = 'pending' "
                "FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
            )
        )
        if not self.env.cr.fetchone():
            return False
        self.invalidate_recordset()
        return True

    def _get_request(self):
        """``(body, headers)`` of the POST: compact JSON, signed over ``"<timestamp>.<body>"``."""
        self.ensure_one()
        body = json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        secret = self.integration_id.sudo().webhook_secret or ""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-LoyaltyPlus-Event": self.event,
            "X-LoyaltyPlus-Delivery": self.event_uuid,
            "X-LoyaltyPlus-Timestamp": timestamp,
            "X-LoyaltyPlus-Signature": f"sha256={sign_payload(secret, timestamp, body)}",
        }
        return body, headers

    def _send(self, session=None):
        """POST the event once; a 2xx answer delivers it, anything else schedules a retry."""
        self.ensure_one()
        body, headers = self._get_request()
        code, error = 0, False
        try:
            response = (session or requests).post(
                self.url, data=body, headers=headers, timeout=REQUEST_TIMEOUT, allow_redirects=False
            )
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.text[:200]}"
        except requests.RequestException as exception:
            error = f"{type(exception).__name__}: {exception}"
        now = fields.Datetime.now()
        attempts = self.attempts + 1
        vals = {"attempts": attempts, "last_attempt": now, "response_code": code, "last_error": False}
        if not error:
            vals["state"] = "done"
        else:
            vals["last_error"] = error[:ERROR_MAX_LENGTH]
            if attempts >= MAX_ATTEMPTS:
                vals["state"] = "failed"
            else:
                vals["next_attempt"] = now + timedelta(seconds=self._get_backoff_seconds(attempts))
            _logger.info("Loyalty+ webhook %s to %s failed (attempt %s): %s", self.id, self.url, attempts, error)
        self.write(vals)
        return not error

    @api.model
    def _get_backoff_seconds(self, attempts):
        return min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)

    def _postpone_siblings(self):
        """The endpoint failed: its other due deliveries wait as long as this one."""
        self.ensure_one()
        if self.state != "pending":
            return
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_webhook_delivery SET next_attempt = %(next)s
                    WHERE integration_id = %(integration)s AND state = 'pending' AND id != %(id)s
                      AND next_attempt < %(next)s""",
                next=self.next_attempt,
                integration=self.integration_id.id,
                id=self.id,
            )
        )
        self.invalidate_model(["next_attempt"])

    def action_retry(self):
        """Backend button: send again at the next run (the attempts start over)."""
        self.check_access("write")
        self.sudo().write(
            {"state": "pending", "attempts": 0, "next_attempt": fields.Datetime.now(), "last_error": False}
        )
        cron = self.env.ref("loyalty_plus.ir_cron_webhook_delivery", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()
        return True

    @api.autovacuum
    def _gc_old_deliveries(self):
        """Keep the delivery log for 30 days."""
        limit = fields.Datetime.now() - timedelta(days=30)
        self.sudo().search([("create_date", "<", limit), ("state", "!=", "pending")]).unlink()
