import threading
import uuid

import requests

import odoo.http
from odoo import api
from odoo.tests import get_db_name, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.tests.common import (
    CommittedDataCase,
    create_committed_merchant,
    remove_committed_merchant,
    serve_threaded,
)

from .common import CSRF_RE

CLIENTS = 6
BURSTS = 3
RATE_LIMIT_SCOPES = ("ip", "email", "device")


@tagged("post_install", "-at_install")
class TestEnrollmentRace(CommittedDataCase):
    """The same email submitted by several visitors at the same instant, over HTTP, on a server
    that serves them in parallel (each request in its own database transaction, with the server's
    own retries). HttpCase's server serves one request at a time on the test's cursor, where
    nothing can race: this test runs Odoo's WSGI application on a threaded server of its own on
    127.0.0.1, on committed data that it removes at the end."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.slug = f"race-{uuid.uuid4().hex[:8]}"
        cls.emails = [f"race.{uuid.uuid4().hex[:8]}@example.com" for _burst in range(BURSTS)]
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            company, program = create_committed_merchant(
                env, "Web Race", program_type="points", points_per_euro=10, welcome_bonus_points=20
            )
            company.loyalty_plus_slug = cls.slug
            # every submission comes from 127.0.0.1 with one email: the rate limits are not what this tests
            ICP = env["ir.config_parameter"]
            cls.rate_limits = {}
            for scope in RATE_LIMIT_SCOPES:
                cls.rate_limits[scope] = ICP.get_param(f"loyalty_plus.rate_limit.web_enroll_{scope}")
                ICP.set_param(f"loyalty_plus.rate_limit.web_enroll_{scope}", 0)
            cls.ids = {"company": company.id, "program": program.id}

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            partners = env["res.partner"].with_context(active_test=False).search([("email", "in", cls.emails)])
            env["res.company"].browse(ids["company"]).loyalty_plus_slug = False
            remove_committed_merchant(cr, ids["company"], ids["program"], partners.ids)
            for scope, value in cls.rate_limits.items():
                env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.web_enroll_{scope}", value or False)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.base_url = serve_threaded(self)

    def _visitor(self):
        """A browser session on the test database that has opened the form: ``(session, token)``."""
        store = odoo.http.root.session_store
        odoo_session = store.new()
        odoo_session.update(odoo.http.get_default_session(), db=get_db_name(), _trace_disable=True)
        odoo_session.context["lang"] = odoo.http.DEFAULT_LANG
        store.save(odoo_session)
        self.addCleanup(store.delete, odoo_session)
        browser = requests.Session()
        self.addCleanup(browser.close)
        browser.cookies["session_id"] = odoo_session.sid
        page = browser.get(f"{self.base_url}/loyalty/{self.slug}/join", timeout=60)
        self.assertEqual(page.status_code, 200, page.text[:300])
        return browser, CSRF_RE.search(page.text).group(1)

    def _burst(self, email):
        """CLIENTS visitors submit ``email`` at once; returns their answers ``(status, location)``."""
        # the forms are opened one after the other: only the submissions race
        visitors = [self._visitor() for _client in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS)
        answers = []

        def submit(browser, token):
            data = {
                "csrf_token": token,
                "first_name": "Race",
                "last_name": "One",
                "email": email,
                "phone": "+352 621 000 111",
                "lang": "en_US",
                "terms": "1",
            }
            barrier.wait(timeout=30)
            response = browser.post(
                f"{self.base_url}/loyalty/{self.slug}/join", data=data, allow_redirects=False, timeout=120
            )
            answers.append((response.status_code, response.headers.get("Location", ""), response.text[:300]))

        threads = [threading.Thread(target=submit, args=visitor) for visitor in visitors]
        with mute_logger("odoo.service.model", "odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=180)
        self.assertEqual(len(answers), CLIENTS, answers)
        return answers

    def test_simultaneous_enrollments_make_one_customer_and_one_card(self):
        for email in self.emails:
            with self.subTest(email=email):
                answers = self._burst(email)
                for status, location, text in answers:
                    self.assertEqual(status, 303, text)
                    self.assertTrue(location.endswith(f"/loyalty/{self.slug}/welcome"), location)
                with self.registry.cursor() as cr:
                    cr.execute("SELECT id FROM res_partner WHERE email_normalized = %s", [email])
                    partner_ids = [row[0] for row in cr.fetchall()]
                    self.assertEqual(len(partner_ids), 1, "one customer for the email")
                    cr.execute(
                        "SELECT count(*), sum(points_balance) FROM loyalty_plus_card WHERE partner_id = %s",
                        [partner_ids[0]],
                    )
                    self.assertEqual(cr.fetchone(), (1, 20), "one card, with one welcome bonus")
                    cr.execute(
                        "SELECT count(*) FROM loyalty_plus_transaction WHERE program_id = %s AND card_id IN "
                        "(SELECT id FROM loyalty_plus_card WHERE partner_id = %s)",
                        [self.ids["program"], partner_ids[0]],
                    )
                    self.assertEqual(cr.fetchone()[0], 1, "one welcome bonus in the ledger")
