"""The push cron against tills that change a card while its update is on the wire (committed data,
real cursors), and against Google and APNs asking to wait (Retry-After) longer than a worker sleeps."""

import hashlib
import json
import threading
import time
from datetime import datetime, timedelta

from odoo import api
from odoo.orm.environments import Transaction
from odoo.tests import freeze_time, tagged

from odoo.addons.loyalty_plus.tests.common import (
    CommittedDataCase,
    create_committed_cashier,
    create_committed_merchant,
    remove_committed_merchant,
)

from ..tools import google_wallet
from ..tools.google_wallet import clear_token_cache
from ..tools.retry import RateLimiter
from .common import (
    ISSUER_ID,
    PASS_TYPE_ID,
    TEAM_ID,
    ApnsStandIn,
    GoogleStandIn,
    WalletCase,
    make_pki,
    make_service_account,
)

TOK = {name: hashlib.sha256(f"race-{name}".encode()).hexdigest() for name in ("a", "b")}
CRON_CONTEXT = {"loyalty_plus_wallet_retry_base_delay": 0.01}
PARAMS = ("loyalty_plus_wallet.google_api_url", "loyalty_plus_wallet.apns_host", "loyalty_plus_wallet.apns_ca_file")


@tagged("post_install", "-at_install")
class TestPushCronConcurrency(CommittedDataCase):
    """Card A's push is held at Google or APNs while a till earns points on card A in a transaction
    of its own; card B is queued behind it. The run must end clean, push B, keep A queued for the
    next run and count the notification Google was sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pki = make_pki()
        cls.google = GoogleStandIn()
        cls.addClassCleanup(cls.google.close)
        cls.apns = ApnsStandIn(pki)
        cls.addClassCleanup(cls.apns.close)
        account, key = make_service_account(f"{cls.google.url}/token")
        cls.google.accounts[account["client_email"]] = key.public_key()
        cls.google.issuers.add(ISSUER_ID)
        clear_token_cache()
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, CRON_CONTEXT)
            params = env["ir.config_parameter"]
            cls.saved_params = {name: params.get_param(name) for name in PARAMS}
            params.set_param("loyalty_plus_wallet.google_api_url", f"{cls.google.url}/walletobjects/v1")
            params.set_param("loyalty_plus_wallet.apns_host", cls.apns.host)
            params.set_param("loyalty_plus_wallet.apns_ca_file", cls.apns.ca_file)
            company, program = create_committed_merchant(
                env, "Wallet race", program_type="hybrid", stamps_target=10, points_per_euro=10
            )
            company.write(
                {
                    "loyalty_plus_wallet_apple_pass_type_id": PASS_TYPE_ID,
                    "loyalty_plus_wallet_apple_team_id": TEAM_ID,
                    "loyalty_plus_wallet_apple_certificate": pki["certificate"],
                    "loyalty_plus_wallet_apple_key": pki["key"],
                    "loyalty_plus_wallet_apple_wwdr": pki["wwdr"],
                    "loyalty_plus_wallet_google_issuer_id": ISSUER_ID,
                    "loyalty_plus_wallet_google_service_account": json.dumps(account),
                }
            )
            user = create_committed_cashier(env, company, "Wallet Race Cashier")
            cls.ids = {"company": company.id, "program": program.id, "user": user.id, "partners": [], "passes": {}}
            cls.object_paths = {}
            for name in ("a", "b"):
                partner = env["res.partner"].create({"name": f"Wallet racer {name}"})
                card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
                wallet_pass = env["loyalty_plus.wallet_pass"]._get_for_card(card, create=True)
                env["loyalty_plus.wallet_registration"].create(
                    {"pass_id": wallet_pass.id, "device_library_identifier": f"race-{name}", "push_token": TOK[name]}
                )
                wallet_pass._get_google_save_url()  # the object exists at Google: changes are sent there too
                cls.ids["partners"].append(partner.id)
                cls.ids["passes"][name] = wallet_pass.id
                cls.object_paths[name] = f"/walletobjects/v1/loyaltyObject/{wallet_pass._google_object_id(ISSUER_ID)}"

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["res.users"].browse(ids["user"]).unlink()
            # the passes and their devices go with the cards (ON DELETE CASCADE)
            remove_committed_merchant(cr, ids["company"], ids["program"], ids["partners"])
            cron = env.ref("loyalty_plus_wallet.ir_cron_loyalty_plus_wallet_push")
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
            for name, value in cls.saved_params.items():
                env["ir.config_parameter"].set_param(name, value)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.google.requests.clear()
        self.apns.requests.clear()
        # both cards changed, A first in the queue
        with self.registry.cursor() as cr:
            cr.execute(
                """UPDATE loyalty_plus_wallet_pass
                      SET google_notify_times = NULL, failure_count = 0, last_error = NULL
                    WHERE id = ANY(%s)""",
                [list(self.ids["passes"].values())],
            )
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.passes(env)._mark_changed()
            env.flush_all()
            cr.execute(
                "UPDATE loyalty_plus_wallet_pass SET queued_date = queued_date - interval '1 minute' WHERE id = %s",
                [self.ids["passes"]["a"]],
            )

    # ------------------------------------------------------------------ helpers

    def passes(self, env):
        return env["loyalty_plus.wallet_pass"].browse(self.ids["passes"].values())

    def state(self, name):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT update_pending, failure_count, google_notify_times
                     FROM loyalty_plus_wallet_pass WHERE id = %s""",
                [self.ids["passes"][name]],
            )
            pending, failures, times = cr.fetchone()
            return {"pending": pending, "failures": failures, "notified": len((times or "").split())}

    def hold(self, stand_in, method_name, matches):
        """Make ``stand_in`` stop before answering a request that ``matches``, until released."""
        arrived, release = threading.Event(), threading.Event()
        answer = getattr(stand_in, method_name)

        def held(*args):
            if matches(*args):
                arrived.set()
                release.wait(20)
            return answer(*args)

        self.patch(stand_in, method_name, held)
        self.addCleanup(release.set)
        return arrived, release

    def start_cron(self):
        """One run of the push cron on a connection of its own, in a thread (it waits on the stand-ins)."""
        outcome = {}

        def run():
            try:
                with self.registry.cursor() as cr:
                    # a transaction of its own up front: looking the registry up needs Registry._lock,
                    # which the test runner holds
                    cr.transaction = Transaction(self.registry)
                    api.Environment(cr, api.SUPERUSER_ID, CRON_CONTEXT)["loyalty_plus.wallet_pass"]._cron_push_updates()
            except Exception as error:  # reported by the test
                outcome["error"] = error

        thread = threading.Thread(target=run)
        thread.start()
        return thread, outcome

    def wait_cron(self, thread, outcome):
        thread.join(60)
        self.assertFalse(thread.is_alive(), "the cron run did not end")
        self.assertNotIn("error", outcome, f"the cron run failed: {outcome.get('error')!r}")

    def till_earns(self, cr, name):
        """A till earns points on card ``name`` in ``cr``'s transaction (flushed: it holds the pass row)."""
        env = api.Environment(cr, self.ids["user"], {"allowed_company_ids": [self.ids["company"]]})
        wallet_pass = env["loyalty_plus.wallet_pass"].sudo().browse(self.ids["passes"][name])
        wallet_pass.card_id.with_env(env).earn_points(10)
        env.flush_all()
        return wallet_pass.card_id.points_balance

    def wait_for_lock_wait(self):
        """Until a connection of this database waits for a row lock (the cron, on the till's row)."""
        deadline = time.monotonic() + 20
        with self.registry.cursor() as cr:
            while time.monotonic() < deadline:
                cr.execute(
                    """SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock'"""
                )
                if cr.fetchone()[0]:
                    return
                cr.rollback()
                time.sleep(0.05)
        self.fail("the cron never waited for the till's lock")

    def apns_paths(self):
        return [r["headers"][":path"] for r in self.apns.requests]

    def google_puts(self, name):
        return [json.loads(r["raw"]) for r in self.google.api_requests() if r["path"] == self.object_paths[name]]

    def assert_next_run_pushes_a(self, points):
        self.google.requests.clear()
        self.apns.requests.clear()
        with self.assertNoLogs(level="ERROR"):
            self.wait_cron(*self.start_cron())
        self.assertEqual(self.state("a"), {"pending": False, "failures": 0, "notified": 2})
        (put,) = self.google_puts("a")
        self.assertEqual(put["secondaryLoyaltyPoints"]["balance"], {"int": points}, "the change went out")
        self.assertEqual(put["notifyPreference"], "NOTIFY_ON_UPDATE")
        self.assertEqual(self.apns_paths(), [f"/3/device/{TOK['a']}"])

    # ------------------------------------------------------------------ tests

    def test_card_changed_while_google_answers(self):
        arrived, release = self.hold(
            self.google, "_answer", lambda method, url, *_args: method == "PUT" and url.path == self.object_paths["a"]
        )
        with self.assertNoLogs(level="ERROR"):
            thread, outcome = self.start_cron()
            self.assertTrue(arrived.wait(20), "card A's update never reached Google")
            with self.registry.cursor() as cr:
                points = self.till_earns(cr, "a")
            release.set()
            self.wait_cron(thread, outcome)
        self.assertEqual(len(self.google_puts("a")), 1)
        self.assertEqual(self.google_puts("a")[0]["notifyPreference"], "NOTIFY_ON_UPDATE")
        self.assertEqual(
            self.state("a"),
            {"pending": True, "failures": 0, "notified": 1},
            "A stays queued for its new points, no failure, and Google's notification is counted",
        )
        self.assertEqual(self.state("b"), {"pending": False, "failures": 0, "notified": 1}, "the batch went on")
        self.assertEqual(self.apns_paths(), [f"/3/device/{TOK['a']}", f"/3/device/{TOK['b']}"])
        self.assert_next_run_pushes_a(points)

    def test_till_commits_while_the_push_is_recorded(self):
        """The till still holds card A's pass when the push is done: writing the outcome waits for
        it, then meets its committed change."""
        arrived, release = self.hold(
            self.apns,
            "_respond",
            lambda _h2, _id, stream, *_args: stream["headers"][b":path"].endswith(TOK["a"].encode()),
        )
        with self.assertNoLogs(level="ERROR"):
            thread, outcome = self.start_cron()
            self.assertTrue(arrived.wait(20), "card A's push never reached APNs")
            with self.registry.cursor() as till_cr:
                points = self.till_earns(till_cr, "a")
                release.set()
                self.wait_for_lock_wait()
                till_cr.commit()
            self.wait_cron(thread, outcome)
        self.assertEqual(self.state("a"), {"pending": True, "failures": 0, "notified": 1})
        self.assertEqual(self.state("b"), {"pending": False, "failures": 0, "notified": 1})
        self.assert_next_run_pushes_a(points)

    def test_tags_leave_out_a_pass_changed_meanwhile(self):
        """The cron tags its batch in a transaction that began before a till committed a change of
        card A: B is tagged, A is left queued for the run its change triggered, and no error."""
        with self.registry.cursor() as cron_cr:
            env = api.Environment(cron_cr, api.SUPERUSER_ID, {})
            passes = self.passes(env)
            tags = {wallet_pass.id: wallet_pass.update_tag for wallet_pass in passes}  # the transaction's snapshot
            with self.registry.cursor() as till_cr:
                self.till_earns(till_cr, "a")
            with self.assertNoLogs(level="ERROR"):
                tagged = passes._assign_update_tags()
            pass_b = env["loyalty_plus.wallet_pass"].browse(self.ids["passes"]["b"])
            self.assertEqual(tagged, pass_b)
            self.assertGreater(pass_b.update_tag, tags[pass_b.id])
            cron_cr.rollback()
        self.assertTrue(self.state("a")["pending"])


@tagged("post_install", "-at_install")
class TestPushRetryAfter(WalletCase):
    """Google or APNs answering "Retry-After: 120": the pass waits two minutes, across cron runs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._serve_apns()
        cls.cron = cls.env.ref("loyalty_plus_wallet.ir_cron_loyalty_plus_wallet_push")

    def setUp(self):
        super().setUp()
        self.apns.requests.clear()
        # outside a cron run, _commit_progress commits: keep the test transaction instead
        self.patch(self.env.cr, "commit", lambda: None)
        # a frozen clock would leave the shared rate limiter's schedule in the far future
        self.patch(google_wallet, "RATE_LIMITER", RateLimiter(rate=20))
        self.wallet_pass = self.Pass._get_for_card(self.card, create=True)
        self.t0 = datetime.now().replace(microsecond=0)

    def run_cron_at(self, seconds):
        """A cron run ``seconds`` after the first, after another change of the card."""
        with freeze_time(self.t0 + timedelta(seconds=seconds)):
            self.wallet_pass._mark_changed()
            self.Pass._cron_push_updates()
        self.wallet_pass.invalidate_recordset()

    def assert_retry_after_honoured(self, sent):
        """``sent()``: the requests of the push seen so far; the first run was answered Retry-After 120."""
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.models.loyalty_plus_wallet_pass", "WARNING"):
            self.run_cron_at(0)
        self.assertEqual(len(sent()), 1, "a long Retry-After is not waited for in the run")
        self.assertTrue(self.wallet_pass.update_pending)
        self.assertEqual(self.wallet_pass.failure_count, 1)
        self.assertIn("429", self.wallet_pass.last_error)
        retry_date = self.t0 + timedelta(seconds=120)
        self.assertEqual(self.wallet_pass.retry_after_date, retry_date)
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id), ("call_at", "=", retry_date)]),
            "the cron is woken when the wait is over, not an hour later",
        )
        for seconds in (1, 60, 119):
            self.run_cron_at(seconds)
            self.assertEqual(len(sent()), 1, f"attempted again {seconds} s later, Google and APNs asked for 120")
            self.assertTrue(self.wallet_pass.update_pending)
        self.run_cron_at(121)
        self.assertEqual(len(sent()), 2)
        self.assertFalse(self.wallet_pass.update_pending)
        self.assertFalse(self.wallet_pass.retry_after_date)
        self.assertEqual(self.wallet_pass.failure_count, 0)

    def test_google_retry_after_kept_across_runs(self):
        self.wallet_pass._get_google_save_url()
        self.google.requests.clear()
        object_path = f"/walletobjects/v1/loyaltyObject/{ISSUER_ID}.loyalty_plus_card_{self.card.card_number}"
        self.google.script[f"PUT {object_path}"] = [(429, {"Retry-After": "120"})]
        self.assert_retry_after_honoured(lambda: [r for r in self.google.api_requests() if r["method"] == "PUT"])

    def test_apns_retry_after_kept_across_runs(self):
        token = hashlib.sha256(b"retry-after").hexdigest()
        self.env["loyalty_plus.wallet_registration"].create(
            {"pass_id": self.wallet_pass.id, "device_library_identifier": "device-r", "push_token": token}
        )
        self.apns.script[token] = [(429, "TooManyRequests", {"Retry-After": "120"})]
        self.assert_retry_after_honoured(lambda: self.apns.requests)
