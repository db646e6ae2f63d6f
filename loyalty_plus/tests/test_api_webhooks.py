import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from psycopg2.errors import UniqueViolation

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.models.loyalty_plus_webhook_delivery import BACKOFF_BASE_SECONDS
from odoo.addons.loyalty_plus.tests.common import LoyaltyPlusCase


class Receiver:
    """A stand-in webhook receiver on 127.0.0.1: records each request, answers the next status of
    ``statuses`` (200 once they are used up)."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def events(self):
        return [json.loads(request["body"])["event"] for request in self.requests]


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead"


@tagged("post_install", "-at_install")
class TestApiWebhooks(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Delivery = cls.env["loyalty_plus.webhook_delivery"]
        cls.Integration = cls.env["loyalty_plus.integration"]

    def setUp(self):
        super().setUp()
        # the delivery cron commits after each delivery; inside a test those commits are no-ops
        self.patch(self.env.cr, "commit", lambda: None)
        self.receiver = Receiver()
        self.addCleanup(self.receiver.stop)

    def _integration(self, name, url, company=None, **vals):
        company = company or self.bakery
        return self.Integration.create(
            {
                "name": name,
                "company_id": company.id,
                "shop_ids": [Command.set(company.ids)],
                "webhook_url": url,
                **vals,
            }
        )

    def _earn(self, amount, ref):
        return self.card.earn_points(amount, order_ref=ref, shop_id=self.bakery.id)

    def _make_due(self, deliveries):
        deliveries.flush_recordset()
        self.env.cr.execute(
            "UPDATE loyalty_plus_webhook_delivery SET next_attempt = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(seconds=1), tuple(deliveries.ids)],
        )
        deliveries.invalidate_recordset()

    def test_delivery_signed_and_logged(self):
        integration = self._integration("Web shop", self.receiver.url)
        self.assertEqual(len(integration.webhook_secret), 64, "a secret is generated")
        self._earn(3, "WH-1")
        deliveries = self.Delivery.search([("integration_id", "=", integration.id)])
        self.assertEqual(sorted(deliveries.mapped("event")), ["card.updated", "transaction.created"])
        self.assertTrue(all(d.state == "pending" for d in deliveries))

        self.assertEqual(self.Delivery._cron_deliver(), 2)
        self.assertEqual(set(deliveries.mapped("state")), {"done"})
        self.assertEqual(set(deliveries.mapped("response_code")), {200})
        self.assertEqual(len(self.receiver.requests), 2)
        for request in self.receiver.requests:
            headers, body = request["headers"], request["body"]
            timestamp = headers["X-LoyaltyPlus-Timestamp"]
            self.assertLessEqual(abs(int(timestamp) - time.time()), 60)
            expected = hmac.new(
                integration.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
            ).hexdigest()
            self.assertTrue(hmac.compare_digest(headers["X-LoyaltyPlus-Signature"], f"sha256={expected}"))
            wrong = hmac.new(b"another secret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            self.assertNotEqual(headers["X-LoyaltyPlus-Signature"], f"sha256={wrong}")
            self.assertEqual(headers["Content-Type"], "application/json")
            payload = json.loads(body)
            self.assertEqual(headers["X-LoyaltyPlus-Event"], payload["event"])
            self.assertEqual(headers["X-LoyaltyPlus-Delivery"], payload["id"])
            self.assertEqual(payload["merchant_id"], self.bakery.id)
            self.assertEqual(payload["data"]["card"]["card_number"], self.card.card_number)
        created = next(json.loads(r["body"]) for r in self.receiver.requests if b"transaction.created" in r["body"])
        self.assertEqual(created["data"]["transaction"]["order_ref"], "WH-1")
        self.assertEqual(created["data"]["transaction"]["points"], 30)
        self.assertEqual(created["data"]["transaction"]["type"], "points_earned")
        # nothing left to send: a second run sends nothing
        self.assertEqual(self.Delivery._cron_deliver(), 0)
        self.assertEqual(len(self.receiver.requests), 2)
        self.assertEqual(integration.webhook_delivery_count, 2)

    def test_reward_ready_and_event_choice(self):
        integration = self._integration("Web shop", self.receiver.url, webhook_card_updated=False)
        self.assertLess(self.card.points_balance, self.reward.points_cost)
        self._earn(20, "WH-RR")  # 200 points: the croissant (100) becomes redeemable
        events = self.Delivery.search([("integration_id", "=", integration.id)]).mapped("event")
        self.assertEqual(sorted(events), ["reward.ready", "transaction.created"], "card.updated was not chosen")
        self.Delivery._cron_deliver()
        ready = next(json.loads(r["body"]) for r in self.receiver.requests if b"reward.ready" in r["body"])
        self.assertEqual(ready["data"]["ready"], ["points"])
        self.assertTrue(any(reward["redeemable"] for reward in ready["data"]["card"]["rewards"]))
        # still ready after another purchase: no second reward.ready
        self._earn(3, "WH-RR2")
        events = self.Delivery.search([("integration_id", "=", integration.id), ("state", "=", "pending")])
        self.assertEqual(events.mapped("event"), ["transaction.created"])

    def test_only_merchants_with_webhooks(self):
        self._integration("Web shop", self.receiver.url)
        self._integration("Kiosk without webhook", False, company=self.cafe)
        cafe_card = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.cafe_program.id, "shop_id": self.cafe.id}
        )
        self.cafe_program.require_staff_pin = False
        count = self.Delivery.search_count([])
        cafe_card.add_stamp(shop_id=self.cafe.id)
        self.assertEqual(cafe_card.stamp_count, 1)
        self.assertEqual(self.Delivery.search_count([]), count, "no webhook integration, nothing queued")
        self.assertNotIn(self.cafe.id, self.Integration._get_webhook_merchant_ids())
        self.assertIn(self.bakery.id, self.Integration._get_webhook_merchant_ids())

    def test_retry_after_500_with_backoff(self):
        integration = self._integration("Web shop", self.receiver.url, webhook_card_updated=False)
        self.receiver.statuses = [500]
        self._earn(3, "WH-500")
        delivery = self.Delivery.search([("integration_id", "=", integration.id)])
        self.assertEqual(len(delivery), 1)
        before = fields.Datetime.now()
        self.assertEqual(self.Delivery._cron_deliver(), 0)
        self.assertEqual(delivery.state, "pending")
        self.assertEqual(delivery.attempts, 1)
        self.assertEqual(delivery.response_code, 500)
        self.assertIn("500", delivery.last_error)
        self.assertGreaterEqual(delivery.next_attempt, before + timedelta(seconds=BACKOFF_BASE_SECONDS - 1))
        # not due yet: the next run leaves it alone
        self.assertEqual(self.Delivery._cron_deliver(), 0)
        self.assertEqual(len(self.receiver.requests), 1)
        # the backoff doubles
        self.assertEqual(self.Delivery._get_backoff_seconds(2), 2 * BACKOFF_BASE_SECONDS)
        self.assertEqual(self.Delivery._get_backoff_seconds(3), 4 * BACKOFF_BASE_SECONDS)
        self._make_due(delivery)
        self.assertEqual(self.Delivery._cron_deliver(), 1)
        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.attempts, 2)
        self.assertEqual(delivery.response_code, 200)
        self.assertFalse(delivery.last_error)
        self.assertEqual(len(self.receiver.requests), 2)
        first, second = (json.loads(r["body"]) for r in self.receiver.requests)
        self.assertEqual(first["id"], second["id"], "a retry sends the same event")

    def test_dead_endpoint_isolated(self):
        dead = self._integration("Dead shop", closed_port_url())
        live = self._integration("Live shop", self.receiver.url)
        self._earn(3, "WH-D1")
        self._earn(4, "WH-D2")
        dead_deliveries = self.Delivery.search([("integration_id", "=", dead.id)])
        live_deliveries = self.Delivery.search([("integration_id", "=", live.id)])
        self.assertEqual(len(dead_deliveries), 4)
        started = time.monotonic()
        self.assertEqual(self.Delivery._cron_deliver(), 4)
        self.assertLess(time.monotonic() - started, 5, "a refused connection costs no timeout")
        self.assertEqual(set(live_deliveries.mapped("state")), {"done"})
        self.assertEqual(len(self.receiver.requests), 4)
        # the dead endpoint was tried once in the run; its other deliveries wait for its backoff
        self.assertEqual(set(dead_deliveries.mapped("state")), {"pending"})
        self.assertEqual(sorted(dead_deliveries.mapped("attempts")), [0, 0, 0, 1])
        tried = dead_deliveries.filtered("attempts")
        self.assertIn("ConnectionError", tried.last_error)
        self.assertFalse(tried.response_code)
        for delivery in dead_deliveries:
            self.assertGreaterEqual(delivery.next_attempt, tried.next_attempt)
        # new events of the live endpoint go out at once while the dead one still waits
        self._earn(5, "WH-D3")  # 120 points: the croissant is ready too
        new_live = self.Delivery.search([("integration_id", "=", live.id), ("state", "=", "pending")])
        self.assertEqual(sorted(new_live.mapped("event")), ["card.updated", "reward.ready", "transaction.created"])
        self.assertEqual(self.Delivery._cron_deliver(), 3)
        self.assertEqual(set(new_live.mapped("state")), {"done"})
        self.assertEqual(len(self.receiver.requests), 7)
        all_dead = self.Delivery.search([("integration_id", "=", dead.id)])
        self.assertEqual(len(all_dead), 7)
        self.assertEqual(sum(all_dead.mapped("attempts")), 1, "new events of a dead endpoint wait for its backoff")
        self.assertTrue(all(delivery.next_attempt >= tried.next_attempt for delivery in all_dead))
        # after enough failures a delivery is marked failed
        self._make_due(tried)
        tried.attempts = 11
        self.Delivery._cron_deliver()
        self.assertEqual(tried.state, "failed")
        self.assertEqual(tried.attempts, 12)
        tried.action_retry()
        self.assertEqual((tried.state, tried.attempts), ("pending", 0))

    def test_webhook_url_checked_and_log_per_merchant(self):
        with self.assertRaises(ValidationError):
            self._integration("Bad", "ftp://example.com/hook")
        integration = self._integration("Web shop", self.receiver.url)
        self._earn(3, "WH-ACL")
        Delivery = self.Delivery.with_user(self.manager)
        self.assertEqual(Delivery.search_count([("integration_id", "=", integration.id)]), 2)
        self.assertEqual(self.Delivery.with_user(self.cafe_manager).search_count([]), 0)
        with self.assertRaises(AccessError):
            self.Delivery.with_user(self.cashier).search([])
        old_secret = integration.webhook_secret
        integration.with_user(self.manager).action_regenerate_webhook_secret()
        self.assertNotEqual(integration.webhook_secret, old_secret)

    def test_webhook_secret_own_shown_once(self):
        integrations = self.Integration.browse()
        for name in ("Shop A", "Shop B", "Shop C"):
            integrations |= self._integration(name, self.receiver.url)
        integrations |= self._integration("Café shop", False, company=self.cafe)
        secrets = integrations.mapped("webhook_secret")
        self.assertEqual(len(set(secrets)), 4, "each integration has its own secret")
        self.assertTrue(all(len(secret) == 64 for secret in secrets))
        # a manager never reads it in the form: it is shown once, or replaced
        shop_a = integrations[0].with_user(self.manager)
        with self.assertRaises(AccessError):
            shop_a.read(["webhook_secret"])
        action = shop_a.action_show_webhook_secret()
        self.assertEqual(action["res_model"], "loyalty_plus.webhook_secret.show")
        self.assertEqual(action["context"]["default_secret"], integrations[0].webhook_secret)
        dialog = self.env["loyalty_plus.webhook_secret.show"].with_user(self.manager).with_context(**action["context"])
        self.assertEqual(dialog.new({}).secret, integrations[0].webhook_secret)
        self.assertTrue(shop_a.webhook_secret_shown)
        with self.assertRaises(UserError):
            shop_a.action_show_webhook_secret()
        action = shop_a.action_regenerate_webhook_secret()
        self.assertNotEqual(action["context"]["default_secret"], secrets[0])
        self.assertEqual(action["context"]["default_secret"], integrations[0].webhook_secret)
        with self.assertRaises(AccessError):
            integrations[3].with_user(self.manager).action_show_webhook_secret()  # the café's
        with self.assertRaises(AccessError):
            integrations[1].with_user(self.cashier).action_regenerate_webhook_secret()
        # integrations made before the field existed got one default between them: each gets its own
        integrations.flush_recordset()
        self.env.cr.execute("DROP INDEX loyalty_plus_integration_webhook_secret_unique")
        self.env.cr.execute(
            "UPDATE loyalty_plus_integration SET webhook_secret = 'shared', webhook_secret_shown = TRUE WHERE id IN %s",
            [tuple(integrations[:3].ids)],
        )
        self.env.cr.execute(
            "UPDATE loyalty_plus_integration SET webhook_secret = NULL WHERE id = %s", [integrations[3].id]
        )
        self.Integration.init()
        integrations.invalidate_recordset()
        secrets = integrations.mapped("webhook_secret")
        self.assertEqual(len(set(secrets)), 4)
        self.assertNotIn("shared", secrets)
        self.assertTrue(all(secret and len(secret) == 64 for secret in secrets))
        self.assertFalse(any(integrations.mapped("webhook_secret_shown")), "the new secrets can be shown once")
        # and the database refuses two integrations with one secret
        self.env.cr.execute(
            "CREATE UNIQUE INDEX loyalty_plus_integration_webhook_secret_unique "
            "ON loyalty_plus_integration (webhook_secret)"
        )
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE loyalty_plus_integration SET webhook_secret = %s WHERE id = %s",
                [secrets[0], integrations[1].id],
            )
