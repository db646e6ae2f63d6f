import hashlib
import json
from unittest.mock import patch

from odoo.tests import tagged

from ..tools.apns import APNS_PUSH_TYPE
from .common import ISSUER_ID, PASS_TYPE_ID, WalletCase

# APNs device tokens are 64 hex digits
TOK = {name: hashlib.sha256(name.encode()).hexdigest() for name in ("ok", "gone", "bad", "flaky", "down", "cron")}


@tagged("post_install", "-at_install")
class TestUpdateQueue(WalletCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._serve_apns()
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
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        self.assertFalse(self.Pass.search([("card_id", "=", self.card.id)]), "no pass, nothing to update")
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass.update_pending = False
        tag, modified = wallet_pass.update_tag, wallet_pass.last_modified
        cron = self.env.ref("loyalty_plus_wallet.ir_cron_loyalty_plus_wallet_push")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.env.cr.precommit.data.pop("loyalty_plus_wallet.triggered", None)
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        self.card._apply_ledger(
            {"transaction_type": "points_adjusted", "points_delta": 10, "shop_id": self.bakery.id, "note": "x"},
            lock=False,
        )
        self.card.action_archive()
        self.assertEqual(self.Pass.search_count([("card_id", "=", self.card.id)]), 1)
        self.assertTrue(wallet_pass.update_pending)
        self.assertEqual(wallet_pass.update_tag, tag, "the tag is taken by the push, not by the change")
        self.assertGreater(wallet_pass.last_modified, modified)
        # one near-real-time trigger per transaction, however many changes
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers_before + 1)

    def test_apns_push_headers_isolation_and_dead_tokens(self):
        pass1 = self.Pass._get_for_card(self.card, create=True)
        pass2 = self.Pass._get_for_card(self.card2, create=True)
        self._register(pass1, "device-a", TOK["ok"])
        self._register(pass1, "device-b", TOK["gone"])
        self._register(pass1, "device-c", TOK["bad"])
        self._register(pass2, "device-d", TOK["flaky"])
        self._register(pass2, "device-e", TOK["down"])
        self.apns.script.update(
            {
                TOK["gone"]: [(410, "Unregistered")],
                TOK["bad"]: [(400, "BadDeviceToken")],
                TOK["flaky"]: [(500, "InternalServerError"), (429, "TooManyRequests")],
                TOK["down"]: [(503, "ServiceUnavailable")] * 4,
            }
        )
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        self.card2._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.models.loyalty_plus_wallet_pass", "WARNING") as logs:
            done = (pass2 | pass1)._push_updates()  # the failing card first: it must not stop the other
        self.assertEqual(done, 1)
        # card 1: pushed; the dead tokens (410, BadDeviceToken) are forgotten
        self.assertFalse(pass1.update_pending)
        self.assertEqual(pass1.registration_ids.mapped("push_token"), [TOK["ok"]])
        # card 2: one device came through after backoff, the other never did -> stays queued, logged
        self.assertTrue(pass2.update_pending)
        self.assertEqual(pass2.failure_count, 1)
        self.assertIn("503", pass2.last_error)
        self.assertIn(self.card2.card_number, logs.output[0])
        self.assertEqual(len(pass2.registration_ids), 2)

        paths = [r["headers"][":path"] for r in self.apns.requests]
        self.assertEqual(paths.count(f"/3/device/{TOK['flaky']}"), 3)
        self.assertEqual(paths.count(f"/3/device/{TOK['down']}"), 4)  # first try + 3 retries
        for request in self.apns.requests:
            self.assertEqual(request["alpn"], "h2")
            self.assertEqual(request["headers"][":method"], "POST")
            self.assertEqual(request["headers"]["apns-topic"], PASS_TYPE_ID)
            self.assertEqual(request["headers"]["apns-push-type"], APNS_PUSH_TYPE)
            self.assertEqual(json.loads(request["body"]), {})
            self.assertEqual(request["peer"]["userId"], PASS_TYPE_ID)  # the pass certificate as client cert

    def test_cron_pushes_pending_passes(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        self._register(wallet_pass, "device-a", TOK["cron"])
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        # outside a cron run, _commit_progress commits: keep the test transaction instead
        with patch.object(self.env.cr, "commit", lambda: None):
            self.Pass._cron_push_updates()
        self.assertFalse(wallet_pass.update_pending)
        self.assertEqual([r["headers"][":path"] for r in self.apns.requests], [f"/3/device/{TOK['cron']}"])

    def test_malformed_token_dropped_and_queue_goes_on(self):
        """Registrations stored before tokens were checked: a token that is not hex can never reach a
        device (and a newline in it made httpx refuse the push URL and the cron abort on every run)."""
        pass1 = self.Pass._get_for_card(self.card, create=True)
        pass2 = self.Pass._get_for_card(self.card2, create=True)
        self._register(pass1, "device-a", "zz")
        self._register(pass1, "device-b", "ab\ncd")
        self._register(pass2, "device-c", TOK["ok"])
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        self.card2._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        # the broken pass is the oldest in the queue: it comes first
        pass1.queued_date = "2020-01-01 00:00:00"
        with patch.object(self.env.cr, "commit", lambda: None):
            self.Pass._cron_push_updates()
        self.assertFalse(pass1.registration_ids, "the malformed tokens are dropped")
        self.assertFalse(pass1.update_pending)
        self.assertFalse(pass2.update_pending, "the other passes are still pushed")
        self.assertEqual([r["headers"][":path"] for r in self.apns.requests], [f"/3/device/{TOK['ok']}"])

    def test_merchant_and_tier_rename_queue_passes(self):
        """The merchant's name (organizationName, issuerName) and the tier's are on the passes."""
        pass1 = self.Pass._get_for_card(self.card, create=True)
        pass2 = self.Pass._get_for_card(self.card2, create=True)
        passes = pass1 | pass2
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 5000, "multiplier": 2}
        )
        self.env.cr.execute("UPDATE loyalty_plus_card SET tier_id = %s WHERE id = %s", [gold.id, self.card.id])
        self.card.invalidate_recordset(["tier_id"])

        def settled():
            passes.write({"update_pending": False})
            self.program.sudo().wallet_google_class_outdated = False
            return {p: p.last_modified for p in passes}

        modified = settled()
        gold.name = "Platinum"
        self.assertTrue(pass1.update_pending)
        self.assertGreater(pass1.last_modified, modified[pass1])
        self.assertFalse(pass2.update_pending, "card 2 is in no tier")
        self.assertEqual(pass1._prepare_google_object(ISSUER_ID)["textModulesData"][0]["body"], "Platinum")

        modified = settled()
        self.bakery.name = self.bakery.name  # not a rename
        self.assertFalse(passes.filtered("update_pending"))
        self.bakery.name = "Boulangerie Renamed"
        self.assertEqual(passes.filtered("update_pending"), passes)
        self.assertTrue(all(p.last_modified > modified[p] for p in passes))
        self.assertTrue(self.program.wallet_google_class_outdated, "the class carries the issuer name")
        self.assertEqual(pass1._prepare_apple_pass_json()["organizationName"], "Boulangerie Renamed")

    def test_update_tags_follow_push_order(self):
        """A device that was told tag N only asks for the passes above N: a change whose tag was
        taken in its business transaction, which then committed after a higher tag was pushed, was
        never fetched. The push takes the tags, after every tag a device can have seen."""
        pass1 = self.Pass._get_for_card(self.card, create=True)
        pass2 = self.Pass._get_for_card(self.card2, create=True)
        self._register(pass1, "device-a", TOK["ok"])
        self._register(pass2, "device-a", TOK["cron"])
        # card 1 changes in a transaction that will commit late...
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        # ...while card 2's change is pushed and the device learns its tag
        self.card2._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        self.assertEqual(pass2._push_updates(), 1)
        seen = pass2.update_tag
        # card 1's transaction commits: the next cron run pushes it above what the device has seen
        with patch.object(self.env.cr, "commit", lambda: None):
            self.Pass._cron_push_updates()
        self.assertFalse(pass1.update_pending)
        self.assertGreater(pass1.update_tag, seen)
        listed = self.env["loyalty_plus.wallet_registration"].search(
            [("device_library_identifier", "=", "device-a"), ("pass_id.update_tag", ">", seen)]
        )
        self.assertEqual(listed.pass_id, pass1, "the device's passesUpdatedSince=<seen> lists card 1")

    def test_points_expiry_queues_passes(self):
        self.program.points_expiration_days = 30
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass.update_pending = False
        modified = wallet_pass.last_modified
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
        self.assertGreater(wallet_pass.last_modified, modified)

    def test_tier_review_and_customer_changes_queue_passes(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)

        def settled():
            wallet_pass.update_pending = False
            return wallet_pass.last_modified

        self.card._apply_ledger(
            {"transaction_type": "points_earned", "points_delta": 600, "shop_id": self.bakery.id}, lock=False
        )
        modified = settled()
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 550, "multiplier": 2}
        )
        with patch.object(self.env.cr, "commit", lambda: None):
            self.env["loyalty_plus.card"]._cron_review_tiers()
        self.assertEqual(self.card.tier_id, gold)
        self.assertTrue(wallet_pass.update_pending, "the review's set-based move reaches the pass")
        self.assertGreater(wallet_pass.last_modified, modified)

        modified = settled()
        self.card.partner_id.name = "Léa Renamed"
        self.assertGreater(wallet_pass.last_modified, modified, "the pass shows the customer's name")

        modified = settled()
        self.card.partner_id.action_loyalty_plus_anonymize()
        self.assertGreater(wallet_pass.last_modified, modified)
        google_object = wallet_pass._prepare_google_object(ISSUER_ID)
        self.assertNotIn("Renamed", json.dumps(google_object), "an anonymized member's name leaves the pass")
