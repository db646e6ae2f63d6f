import json
from unittest.mock import patch

from odoo.tests import tagged

from ..tools.apns import APNS_PUSH_TYPE
from .common import ISSUER_ID, PASS_TYPE_ID, ApnsStandIn, WalletCase


@tagged("post_install", "-at_install")
class TestUpdateQueue(WalletCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.apns = ApnsStandIn(cls.pki)
        cls.addClassCleanup(cls.apns.close)
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("loyalty_plus_wallet.apns_host", cls.apns.host)
        params.set_param("loyalty_plus_wallet.apns_ca_file", cls.apns.ca_file)
        cls.card2 = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.partner2.id, "program_id": cls.program.id, "shop_id": cls.bakery.id}
        )

    def setUp(self):
        super().setUp()
        self.apns.requests.clear()
        self.apns.script.clear()

    def _register(self, wallet_pass, device, token):
        return self.env["loyalty_plus.wallet_registration"].create(
            {"pass_id": wallet_pass.id, "device_library_identifier": device, "push_token": token}
        )

    def test_changes_queue_one_coalesced_update(self):
        self.card._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
        self.assertFalse(self.Pass.search([("card_id", "=", self.card.id)]), "no pass, nothing to update")
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass.update_pending = False
        tag, modified = wallet_pass.update_tag, wallet_pass.last_modified
        cron = self.env.ref("loyalty_plus_wallet.ir_cron_loyalty_plus_wallet_push")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.env.cr.precommit.data.pop("loyalty_plus_wallet.triggered", None)
        self.card._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
        self.card._apply_ledger("points_adjusted", points=10, shop=self.bakery, lock=False, note="x")
        self.card.action_archive()
        self.assertEqual(self.Pass.search_count([("card_id", "=", self.card.id)]), 1)
        self.assertTrue(wallet_pass.update_pending)
        self.assertGreater(wallet_pass.update_tag, tag)
        self.assertGreater(wallet_pass.last_modified, modified)
        # one near-real-time trigger per transaction, however many changes
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers_before + 1)

    def test_apns_push_headers_isolation_and_dead_tokens(self):
        pass1 = self.Pass._get_for_card(self.card, create=True)
        pass2 = self.Pass._get_for_card(self.card2, create=True)
        self._register(pass1, "device-a", "tok-ok")
        self._register(pass1, "device-b", "tok-gone")
        self._register(pass1, "device-c", "tok-bad")
        self._register(pass2, "device-d", "tok-flaky")
        self._register(pass2, "device-e", "tok-down")
        self.apns.script.update(
            {
                "tok-gone": [(410, "Unregistered")],
                "tok-bad": [(400, "BadDeviceToken")],
                "tok-flaky": [(500, "InternalServerError"), (429, "TooManyRequests")],
                "tok-down": [(503, "ServiceUnavailable")] * 4,
            }
        )
        self.card._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
        self.card2._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.models.loyalty_plus_wallet_pass", "WARNING") as logs:
            done = (pass2 | pass1)._push_updates()  # the failing card first: it must not stop the other
        self.assertEqual(done, 1)
        # card 1: pushed; the dead tokens (410, BadDeviceToken) are forgotten
        self.assertFalse(pass1.update_pending)
        self.assertEqual(pass1.registration_ids.mapped("push_token"), ["tok-ok"])
        # card 2: one device came through after backoff, the other never did -> stays queued, logged
        self.assertTrue(pass2.update_pending)
        self.assertEqual(pass2.failure_count, 1)
        self.assertIn("503", pass2.last_error)
        self.assertIn(self.card2.card_number, logs.output[0])
        self.assertEqual(len(pass2.registration_ids), 2)

        paths = [r["headers"][":path"] for r in self.apns.requests]
        self.assertEqual(paths.count("/3/device/tok-flaky"), 3)
        self.assertEqual(paths.count("/3/device/tok-down"), 4)  # first try + 3 retries
        for request in self.apns.requests:
            self.assertEqual(request["alpn"], "h2")
            self.assertEqual(request["headers"][":method"], "POST")
            self.assertEqual(request["headers"]["apns-topic"], PASS_TYPE_ID)
            self.assertEqual(request["headers"]["apns-push-type"], APNS_PUSH_TYPE)
            self.assertEqual(json.loads(request["body"]), {})
            self.assertEqual(request["peer"]["userId"], PASS_TYPE_ID)  # the pass certificate as client cert

    def test_cron_pushes_pending_passes(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        self._register(wallet_pass, "device-a", "tok-cron")
        self.card._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
        # outside a cron run, _commit_progress commits: keep the test transaction instead
        with patch.object(self.env.cr, "commit", lambda: None):
            self.Pass._cron_push_updates()
        self.assertFalse(wallet_pass.update_pending)
        self.assertEqual([r["headers"][":path"] for r in self.apns.requests], ["/3/device/tok-cron"])

    def test_points_expiry_queues_passes(self):
        self.program.points_expiration_days = 30
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass.update_pending = False
        tag = wallet_pass.update_tag
        self.env.cr.execute(
            "UPDATE loyalty_plus_card SET last_activity_date = now() - interval '60 days' WHERE id = %s",
            [self.card.id],
        )
        self.card.invalidate_recordset()
        self.assertTrue(self.card.points_balance)
        with patch.object(self.env.cr, "commit", lambda: None):
            self.env["loyalty_plus.card"]._cron_expire_points()
        self.assertEqual(self.card.points_balance, 0)
        self.assertTrue(wallet_pass.update_pending)
        self.assertGreater(wallet_pass.update_tag, tag)

    def test_tier_review_and_customer_changes_queue_passes(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)

        def settled():
            wallet_pass.update_pending = False
            return wallet_pass.update_tag

        self.card._apply_ledger("points_earned", points=600, shop=self.bakery, lock=False)
        tag = settled()
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 550, "multiplier": 2}
        )
        with patch.object(self.env.cr, "commit", lambda: None):
            self.env["loyalty_plus.card"]._cron_review_tiers()
        self.assertEqual(self.card.tier_id, gold)
        self.assertTrue(wallet_pass.update_pending, "the review's set-based move reaches the pass")
        self.assertGreater(wallet_pass.update_tag, tag)

        tag = settled()
        self.card.partner_id.name = "Léa Renamed"
        self.assertGreater(wallet_pass.update_tag, tag, "the pass shows the customer's name")

        tag = settled()
        self.card.partner_id.action_loyalty_plus_anonymize()
        self.assertGreater(wallet_pass.update_tag, tag)
        google_object = wallet_pass._prepare_google_object(ISSUER_ID)
        self.assertNotIn("Renamed", json.dumps(google_object), "an anonymized member's name leaves the pass")
