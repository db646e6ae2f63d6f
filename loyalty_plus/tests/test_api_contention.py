import threading
import time
import uuid
from datetime import datetime

import requests

import odoo.http
import odoo.service.model
from odoo import api
from odoo.fields import Command
from odoo.tests import get_db_name, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.models import loyalty_plus_rate_limit as rate_limit
from odoo.addons.loyalty_plus.models.loyalty_plus_api import CARD_BUSY_RETRY_AFTER
from odoo.addons.loyalty_plus.models.loyalty_plus_rate_limit import READ_FLUSH_HITS

from .common import CommittedDataCase, create_committed_merchant, remove_committed_merchant, serve_threaded

CLIENTS = 16
START_POINTS = 1000
RATE_LIMIT = 5


@tagged("post_install", "-at_install")
class TestApiContention(CommittedDataCase):
    """Many clients writing on ONE card at once, over HTTP, on a server that really serves them in
    parallel (each request with its own database transaction, the server's own retries).

    The test server of HttpCase serves requests one at a time on the test's cursor, where no two
    transactions can collide; this test starts Odoo's WSGI application on a threaded server of its
    own on 127.0.0.1, on committed data that it removes at the end."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env,
                "API Contention",
                program_type="points",
                points_per_euro=10,
                minimum_purchase=0,
                minimum_redemption_points=0,
            )
            reward = env["loyalty_plus.reward"].create(
                {"name": "Sip", "program_id": program.id, "points_cost": 1, "reward_kind": "voucher"}
            )
            partner = env["res.partner"].create({"name": "Contention Customer"})
            card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
            card.earn_points(START_POINTS / 10, order_ref=f"CONTENTION-{uuid.uuid4().hex}", shop_id=company.id)
            integration = env["loyalty_plus.integration"].create(
                {
                    "name": "Contention shop",
                    "company_id": company.id,
                    "shop_ids": [Command.set(company.ids)],
                    "allow_redeem": True,
                    "rate_limit_per_minute": 100000,
                }
            )
            key = integration._generate_api_key()
            tiny = env["loyalty_plus.integration"].create(
                {
                    "name": "Tiny kiosk",
                    "company_id": company.id,
                    "shop_ids": [Command.set(company.ids)],
                    "rate_limit_per_minute": RATE_LIMIT,
                }
            )
            tiny_key = tiny._generate_api_key()
            # the engine's per-user limit of redeems (30 a minute) is not what this test is about
            ICP = env["ir.config_parameter"]
            cls.redeem_limit = ICP.get_param("loyalty_plus.rate_limit.redeem")
            ICP.set_param("loyalty_plus.rate_limit.redeem", "0")
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "reward": reward.id,
                "partner": partner.id,
                "card": card.id,
                "card_number": card.card_number,
                "integration": integration.id,
                "user": integration.user_id.id,
                "key": key,
                "tiny": tiny.id,
                "tiny_user": tiny.user_id.id,
                "tiny_key": tiny_key,
            }

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            integrations = (ids["integration"], ids["tiny"])
            cr.execute("DELETE FROM loyalty_plus_idempotency WHERE integration_id IN %s", [integrations])
            cr.execute("DELETE FROM loyalty_plus_integration WHERE id IN %s", [integrations])
            cr.execute(
                "DELETE FROM loyalty_plus_rate_limit WHERE key IN %s",
                [tuple(f"api:integration:{integration}" for integration in integrations)],
            )
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            users = env["res.users"].browse([ids["user"], ids["tiny_user"]])
            user_partners = users.partner_id
            users.unlink()
            user_partners.unlink()
            remove_committed_merchant(cr, ids["company"], ids["program"], [ids["partner"]])
            env["ir.config_parameter"].set_param("loyalty_plus.rate_limit.redeem", cls.redeem_limit or False)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.base_url = f"{serve_threaded(self)}/json/2/loyalty_plus.api"
        self.url = f"{self.base_url}/redeem"

    def _burst(self):
        """CLIENTS redeems of one reward on the one card, released together; returns the answers."""
        barrier = threading.Barrier(CLIENTS)
        answers = []
        headers = {"Authorization": f"bearer {self.ids['key']}", "X-Odoo-Database": get_db_name()}

        def client():
            body = {
                "idempotency_key": uuid.uuid4().hex,
                "card": self.ids["card_number"],
                "reward_id": self.ids["reward"],
            }
            with requests.Session() as session:
                barrier.wait(timeout=30)
                response = session.post(self.url, json=body, headers=headers, timeout=120)
            answers.append((response.status_code, response.json(), response.headers.get("Retry-After")))

        threads = [threading.Thread(target=client) for _i in range(CLIENTS)]
        with mute_logger("odoo.http", "odoo.service.model", "odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=180)
        self.assertEqual(len(answers), CLIENTS, answers)
        return answers

    def _ledger(self):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT c.points_balance,
                          (SELECT sum(points_delta) FROM loyalty_plus_transaction t WHERE t.card_id = c.id),
                          (SELECT count(*) FROM loyalty_plus_transaction t
                            WHERE t.card_id = c.id AND t.transaction_type = 'points_redeemed'),
                          (SELECT count(*) FROM loyalty_plus_redemption r WHERE r.card_id = c.id)
                     FROM loyalty_plus_card c WHERE c.id = %s""",
                [self.ids["card"]],
            )
            return cr.fetchone()

    def _check_answers(self, answers):
        statuses = [status for status, _body, _retry in answers]
        summary = [(status, body.get("context"), body.get("message")) for status, body, _retry in answers]
        self.assertNotIn(500, statuses, summary)
        self.assertTrue(set(statuses) <= {200, 409}, summary)
        for status, body, retry_after in answers:
            if status == 409:
                self.assertEqual(body["context"]["code"], "card_busy", body)
                self.assertEqual(body["context"]["retry_after"], CARD_BUSY_RETRY_AFTER)
                self.assertEqual(retry_after, str(CARD_BUSY_RETRY_AFTER))
                self.assertTrue(body["message"])
            else:
                self.assertTrue(body["ok"] and body["code"], body)
        return statuses.count(200)

    def _check_ledger(self, redeemed):
        balance, ledger, redeem_rows, redemptions = self._ledger()
        self.assertEqual(balance, ledger, "the balance is the sum of the ledger")
        self.assertEqual(redeem_rows, redeemed, "one ledger row per answered redeem")
        self.assertEqual(redemptions, redeemed, "one redemption code per answered redeem")
        self.assertEqual(balance, START_POINTS - redeemed)

    def test_contention_answers_409_never_500(self):
        # the server's retries exhausted at once: the colliding calls get 409 card_busy, not 500
        self.patch(odoo.service.model, "MAX_TRIES_ON_CONCURRENCY_FAILURE", 1)
        redeemed, busy = 0, 0
        for _burst in range(3):  # the scheduler may, rarely, serve one burst without any collision
            answers = self._burst()
            succeeded = self._check_answers(answers)
            redeemed += succeeded
            busy += CLIENTS - succeeded
            if busy:
                break
        self.assertTrue(busy, "16 simultaneous writes on one card collided at least once")
        self.assertTrue(redeemed, "the first of the colliding writes went through")
        self._check_ledger(redeemed)
        # the same calls retried with Odoo's own retries (5 tries): still never a 500
        self.patch(odoo.service.model, "MAX_TRIES_ON_CONCURRENCY_FAILURE", 5)
        redeemed += self._check_answers(self._burst())
        self._check_ledger(redeemed)

    def _hits(self, key):
        with self.registry.cursor() as cr:
            cr.execute("SELECT sum(hits) FROM loyalty_plus_rate_limit WHERE key = %s", [key])
            return cr.fetchone()[0] or 0

    def _wait_for_a_fresh_minute(self):
        if datetime.now().second > 40:  # the counted minute must not turn during the test
            time.sleep(61 - datetime.now().second)

    def test_rate_limit_shared_by_all_workers(self):
        """The integration's writes are counted in the database, where every worker process of the
        server counts: calls counted by another process use up the same limit."""
        self._wait_for_a_fresh_minute()
        key = f"api:integration:{self.ids['tiny']}"
        headers = {"Authorization": f"bearer {self.ids['tiny_key']}", "X-Odoo-Database": get_db_name()}

        def earn():
            ref = uuid.uuid4().hex
            return requests.post(
                f"{self.base_url}/earn",
                json={"idempotency_key": ref, "card": self.ids["card_number"], "amount": 1, "order_ref": ref},
                headers=headers,
                timeout=30,
            )

        for _call in range(2):
            self.assertEqual(earn().status_code, 200)
        self.assertEqual(self._hits(key), 2, "each write counted once, in the database")
        # two more calls served by another worker process of the server, counted in the same row
        with self.registry.cursor() as cr:
            cr.execute(
                """UPDATE loyalty_plus_rate_limit SET hits = hits + 2
                    WHERE key = %s AND window_start = date_trunc('minute', now() at time zone 'utc')""",
                [key],
            )
            self.assertEqual(cr.rowcount, 1)
        self.assertEqual(earn().status_code, 200, "the 5th call of the minute is allowed")
        with mute_logger("odoo.http"):
            refused = earn()
        self.assertEqual(refused.status_code, 429, refused.text)
        self.assertEqual(refused.json()["context"]["code"], "rate_limited")
        self.assertTrue(1 <= int(refused.headers["Retry-After"]) <= 60)
        self.assertEqual(self._hits(key), RATE_LIMIT + 1)

    def _forget_pending_hits(self, key):
        """Hits of earlier tests waiting in this process for their batch: not this test's."""
        with rate_limit._read_lock:
            for slot in [slot for slot in rate_limit._read_pending if slot[1] == key]:
                del rate_limit._read_pending[slot]

    def test_writes_under_a_wide_cap_counted_in_batches(self):
        """An integration allowed thousands of calls a minute has its writes counted in batches
        (no transaction of their own per call); the tight cap of the test above counts each one."""
        self._wait_for_a_fresh_minute()
        key = f"api:integration:{self.ids['integration']}"
        self._forget_pending_hits(key)
        headers = {"Authorization": f"bearer {self.ids['key']}", "X-Odoo-Database": get_db_name()}
        before = self._hits(key)

        def earn():
            ref = uuid.uuid4().hex
            response = requests.post(
                f"{self.base_url}/earn",
                json={"idempotency_key": ref, "card": self.ids["card_number"], "amount": 1, "order_ref": ref},
                headers=headers,
                timeout=30,
            )
            self.assertEqual(response.status_code, 200, response.text)

        for _call in range(READ_FLUSH_HITS - 1):
            earn()
        self.assertEqual(self._hits(key), before, "no counter write below a batch")
        earn()
        self.assertEqual(self._hits(key), before + READ_FLUSH_HITS, "the batch written at once")

    def test_lookups_counted_in_batches(self):
        """A lookup writes nothing (a replica could serve it): its hit waits in the worker process
        and goes to the database with the batch it completes."""
        self._wait_for_a_fresh_minute()
        key = f"api:integration:{self.ids['integration']}"
        self._forget_pending_hits(key)
        headers = {"Authorization": f"bearer {self.ids['key']}", "X-Odoo-Database": get_db_name()}
        before = self._hits(key)

        def lookup():
            response = requests.post(
                f"{self.base_url}/lookup", json={"query": self.ids["card_number"]}, headers=headers, timeout=30
            )
            self.assertEqual(response.status_code, 200, response.text)

        for _call in range(READ_FLUSH_HITS - 1):
            lookup()
        self.assertEqual(self._hits(key), before, "no write for a lookup below a batch")
        lookup()
        self.assertEqual(self._hits(key), before + READ_FLUSH_HITS, "the batch written at once")
