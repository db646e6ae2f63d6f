import base64
import io
import json
import time

import jwt
from PIL import Image

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..tools import google_wallet
from ..tools.google_wallet import GOOGLE_SAVE_URL, GOOGLE_SCOPE, MAX_SAVE_URL_LENGTH, GoogleWalletClient
from ..tools.retry import RateLimiter
from .common import ISSUER_ID, OTHER_ISSUER_ID, WalletCase, make_service_account


@tagged("post_install", "-at_install")
class TestGoogleWallet(WalletCase):
    def _client(self):
        return self.bakery.with_context(loyalty_plus_wallet_retry_base_delay=0.01)._loyalty_plus_wallet_google_client()

    def test_oauth_assertion_and_token_cache(self):
        client = self._client()
        assertion = client.make_assertion()
        claims = jwt.decode(
            assertion, self.google_key.public_key(), algorithms=["RS256"], audience=f"{self.google.url}/token"
        )
        self.assertEqual(claims["iss"], self.service_account["client_email"])
        self.assertEqual(claims["scope"], GOOGLE_SCOPE)
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertEqual(jwt.get_unverified_header(assertion)["kid"], "kid-test-1")
        self.assertEqual(client.get_access_token(), "access-1")
        self.assertEqual(self._client().get_access_token(), "access-1")  # cached until expiry
        tokens = [r for r in self.google.requests if r["path"] == "/token"]
        self.assertEqual(len(tokens), 1)
        # an expiring token is renewed
        for key, (token, _expiry) in list(google_wallet._token_cache.items()):
            google_wallet._token_cache[key] = (token, time.time() + 30)
        self.assertEqual(self._client().get_access_token(), "access-2")
        self.assertIn(b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", tokens[0]["raw"])
        # the stand-in checks the assertion like Google: another key, or another audience, is refused
        forged = GoogleWalletClient(
            dict(self.service_account, private_key=make_service_account("x")[0]["private_key"]), ISSUER_ID
        )
        wrong_audience = GoogleWalletClient(self.service_account, ISSUER_ID)
        wrong_audience.make_assertion = lambda: jwt.encode(
            {"iss": self.service_account["client_email"], "scope": GOOGLE_SCOPE, "aud": "https://elsewhere"},
            self.service_account["private_key"],
            algorithm="RS256",
        )
        for client in (forged, wrong_audience):
            with self.subTest(client=client), self.assertRaisesRegex(google_wallet.GoogleWalletError, "400"):
                client.get_access_token(force=True)

    def test_save_link_creates_objects_then_names_only_the_id(self):
        self.program.card_name = "Bakery Card"
        links = {link["provider"]: link["url"] for link in self.card._get_wallet_links()}
        self.assertEqual(set(links), {"google", "apple"})
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        url = wallet_pass._get_google_save_url()
        self.assertTrue(url.startswith(GOOGLE_SAVE_URL))
        self.assertLess(len(url), MAX_SAVE_URL_LENGTH)
        claims = jwt.decode(
            url[len(GOOGLE_SAVE_URL) :], self.google_key.public_key(), algorithms=["RS256"], audience="google"
        )
        self.assertEqual(claims["typ"], "savetowallet")
        self.assertEqual(claims["iss"], self.service_account["client_email"])
        self.assertEqual(claims["origins"], [self.card.get_base_url()])
        object_id = f"{ISSUER_ID}.loyalty_plus_card_{self.card.card_number}"
        self.assertEqual(claims["payload"], {"loyaltyObjects": [{"id": object_id}]})

        calls = self.google.api_requests()
        self.assertEqual([(c["method"], c["path"]) for c in calls], [
            ("POST", "/walletobjects/v1/loyaltyClass"),
            ("POST", "/walletobjects/v1/loyaltyObject"),
        ])  # fmt: skip
        for call in calls:
            self.assertEqual(call["headers"]["Authorization"], "Bearer access-1")
        klass, obj = (json.loads(c["raw"]) for c in calls)
        self.assertEqual(klass["programName"], "Bakery Card")
        self.assertEqual(klass["hexBackgroundColor"], self.program.primary_color)
        self.assertTrue(klass["programLogo"]["sourceUri"]["uri"].endswith(f"/program/{self.program.id}/logo.png"))
        self.assertNotIn("heroImage", klass)
        self.assertEqual(obj["id"], object_id)
        self.assertEqual(obj["classId"], klass["id"])
        self.assertEqual(obj["state"], "ACTIVE")
        self.assertEqual(
            obj["barcode"], {"type": "QR_CODE", "value": self.card.qr_payload, "alternateText": self.card.card_number}
        )
        self.assertEqual(obj["loyaltyPoints"]["balance"], {"string": "0/3"})
        self.assertEqual(obj["secondaryLoyaltyPoints"]["balance"], {"int": 20})
        self.assertNotIn("notifyPreference", obj)
        self.assertTrue(wallet_pass.google_object_saved)

        # a second save link does not create anything again
        self.google.requests.clear()
        wallet_pass._get_google_save_url()
        self.assertEqual(self.google.api_requests(), [])

    def test_notifying_updates_capped_then_silent(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        self.google.requests.clear()
        for _i in range(4):
            self.card._apply_ledger(
                {"transaction_type": "points_adjusted", "points_delta": 5, "shop_id": self.bakery.id, "note": "t"},
                lock=False,
            )
            wallet_pass._push_updates()
        patches = [json.loads(r["raw"]) for r in self.google.api_requests()]
        self.assertEqual(len(patches), 4)
        self.assertEqual([p.get("notifyPreference") for p in patches], ["NOTIFY_ON_UPDATE"] * 3 + [None])
        self.assertEqual(patches[-1]["secondaryLoyaltyPoints"]["balance"], {"int": 40})
        # a day later notifications are allowed again
        self.assertEqual(wallet_pass._google_notification_budget(now=time.time() + 24 * 3600 + 1)[0], True)

    def test_backoff_on_429_and_500(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        self.google.requests.clear()
        object_path = f"/walletobjects/v1/loyaltyObject/{ISSUER_ID}.loyalty_plus_card_{self.card.card_number}"
        self.google.script[f"PUT {object_path}"] = [429, 500]
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        start = time.monotonic()
        self.assertEqual(wallet_pass._push_updates(), 1)
        elapsed = time.monotonic() - start
        self.assertEqual([r["method"] for r in self.google.api_requests()], ["PUT"] * 3)
        self.assertGreaterEqual(elapsed, 0.01 + 0.04)  # 1x then 4x the (shortened) base delay
        self.assertFalse(wallet_pass.update_pending)
        # four failures exhaust the retries (1, 4, 16): the update stays queued and the error is kept
        self.google.script[f"PUT {object_path}"] = [500, 500, 500, 500]
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.models.loyalty_plus_wallet_pass", "WARNING") as logs:
            self.assertEqual(wallet_pass._push_updates(), 0)
        self.assertIn(self.card.card_number, logs.output[0])
        self.assertTrue(wallet_pass.update_pending)
        self.assertEqual(wallet_pass.failure_count, 1)
        self.assertIn("500", wallet_pass.last_error)

    def test_branding_change_resends_class_and_objects(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        wallet_pass.update_pending = False
        self.google.requests.clear()
        self.program.primary_color = "#112233"
        self.assertTrue(wallet_pass.update_pending)
        self.card.action_archive()
        wallet_pass._push_updates()
        calls = self.google.api_requests()
        self.assertEqual([c["method"] for c in calls], ["POST", "PUT", "PUT"])  # class exists: 409 -> replace
        self.assertEqual(json.loads(calls[1]["raw"])["hexBackgroundColor"], "#112233")
        self.assertNotIn("heroImage", json.loads(calls[1]["raw"]))
        # the hero image (a branding field) reaches the class as heroImage
        self.google.requests.clear()
        hero = io.BytesIO()
        Image.new("RGB", (1032, 336), (10, 120, 60)).save(hero, format="PNG")
        self.program.hero_image = base64.b64encode(hero.getvalue())
        self.assertTrue(self.program.wallet_google_class_outdated)
        wallet_pass._push_updates()
        klass = json.loads(self.google.api_requests()[1]["raw"])
        self.assertTrue(klass["heroImage"]["sourceUri"]["uri"].endswith(f"/program/{self.program.id}/hero.png"))
        self.assertEqual(json.loads(calls[2]["raw"])["state"], "INACTIVE")
        self.assertFalse(self.program.wallet_google_class_outdated)

    def test_issuer_changed_class_and_object_created(self):
        """After an issuer ID change (or a database copy) Google has neither the class nor the object
        of the new ids: the update creates the class first, then the object, instead of failing forever."""
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        self.bakery.loyalty_plus_wallet_google_issuer_id = OTHER_ISSUER_ID
        self.google.requests.clear()
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        self.assertEqual(wallet_pass._push_updates(), 1)
        class_id = wallet_pass._google_class_id(OTHER_ISSUER_ID)
        object_id = f"{OTHER_ISSUER_ID}.loyalty_plus_card_{self.card.card_number}"
        self.assertEqual(
            [(c["method"], c["path"].rsplit("/", 1)[-1]) for c in self.google.api_requests()],
            [("POST", "loyaltyClass"), ("PUT", object_id), ("POST", "loyaltyObject")],
        )
        self.assertIn(("loyaltyClass", class_id), self.google.objects)
        saved = self.google.objects[("loyaltyObject", object_id)]
        self.assertEqual(saved["classId"], class_id)
        self.assertEqual(saved["loyaltyPoints"]["balance"], {"string": "1/3"})
        self.assertEqual(wallet_pass.google_object_id, object_id)
        self.assertFalse(wallet_pass.update_pending)
        # the save link now names the new object without creating anything
        self.google.requests.clear()
        url = wallet_pass._get_google_save_url()
        claims = jwt.decode(url[len(GOOGLE_SAVE_URL) :], options={"verify_signature": False})
        self.assertEqual(claims["payload"], {"loyaltyObjects": [{"id": object_id}]})
        self.assertEqual(self.google.api_requests(), [])

    def test_class_deleted_at_google_sent_again(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        self.program.sudo().write(
            {"wallet_google_class_id": wallet_pass._google_class_id(ISSUER_ID), "wallet_google_class_outdated": False}
        )
        # we believe the class saved, Google does not have it: the object is refused, then class first
        wallet_pass._get_google_save_url()
        self.assertEqual(
            [(c["method"], c["path"].rsplit("/", 1)[-1]) for c in self.google.api_requests()],
            [("POST", "loyaltyObject"), ("POST", "loyaltyClass"), ("POST", "loyaltyObject")],
        )
        self.assertTrue(wallet_pass.google_object_saved)

    def test_program_type_change_drops_secondary_points(self):
        """hybrid -> points: the object is replaced (PUT), not merged, so the stamps and the
        secondary points Google stored before disappear from the pass."""
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        object_key = ("loyaltyObject", f"{ISSUER_ID}.loyalty_plus_card_{self.card.card_number}")
        self.assertIn("secondaryLoyaltyPoints", self.google.objects[object_key])
        self.program.program_type = "points"
        self.assertTrue(wallet_pass.update_pending)
        self.assertEqual(wallet_pass._push_updates(), 1)
        stored = self.google.objects[object_key]
        self.assertNotIn("secondaryLoyaltyPoints", stored)
        self.assertEqual(stored["loyaltyPoints"]["balance"], {"int": self.card.points_balance})

    def test_class_in_merchant_language_saved_once(self):
        """The class is shared by every card: built in the merchant's language (the customer's French
        only as a translation) and sent once, not again with every new card."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.bakery.partner_id.lang = "en_US"
        self.program.card_name = "Bakery Card"
        self.program.with_context(lang="fr_FR").card_name = "Carte Boulangerie"
        self.card.partner_id.lang = "fr_FR"
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        calls = self.google.api_requests()
        klass, obj = (json.loads(c["raw"]) for c in calls)
        self.assertEqual(klass["programName"], "Bakery Card")
        self.assertEqual(klass["localizedProgramName"]["defaultValue"], {"language": "en-US", "value": "Bakery Card"})
        self.assertIn(
            {"language": "fr-FR", "value": "Carte Boulangerie"}, klass["localizedProgramName"]["translatedValues"]
        )
        self.assertEqual(klass["localizedIssuerName"]["defaultValue"]["value"], self.bakery.name)
        self.assertEqual(obj["loyaltyPoints"]["label"], "Tampons", "the object speaks the customer's language")

        self.google.requests.clear()
        card2 = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        self.Pass._get_for_card(card2, create=True)._get_google_save_url()
        self.assertEqual(
            [(c["method"], c["path"]) for c in self.google.api_requests()],
            [("POST", "/walletobjects/v1/loyaltyObject")],
        )

    def test_retry_after_honoured(self):
        wallet_pass = self.Pass._get_for_card(self.card, create=True)
        wallet_pass._get_google_save_url()
        self.google.requests.clear()
        object_path = f"/walletobjects/v1/loyaltyObject/{ISSUER_ID}.loyalty_plus_card_{self.card.card_number}"
        self.google.script[f"PUT {object_path}"] = [(429, {"Retry-After": "1"})]
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        start = time.monotonic()
        self.assertEqual(wallet_pass._push_updates(), 1)
        self.assertGreaterEqual(time.monotonic() - start, 1.0, "waited as long as Google asked, not 0.01 s")
        self.assertEqual([r["method"] for r in self.google.api_requests()], ["PUT", "PUT"])
        # asked to wait an hour: no worker sleeps that long, the pass waits for a later run
        self.google.requests.clear()
        self.google.script[f"PUT {object_path}"] = [(429, {"Retry-After": "3600"})]
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.models.loyalty_plus_wallet_pass", "WARNING"):
            self.assertEqual(wallet_pass._push_updates(), 0)
        self.assertEqual([r["method"] for r in self.google.api_requests()], ["PUT"])
        self.assertTrue(wallet_pass.update_pending)
        self.assertIn("429", wallet_pass.last_error)

    def test_configuration_test_checks_the_issuer(self):
        """A valid key of an account that is no user of the issuer gets a token, then every pass fails:
        "Test configuration" asks Google for the issuer's classes and names the problem."""
        self.bakery.loyalty_plus_wallet_google_issuer_id = "3388000000099999999"
        settings = self.env["res.config.settings"].with_company(self.bakery).create({})
        with self.assertRaisesRegex(UserError, "may not issue passes for the Google Wallet issuer 3388000000099999999"):
            settings.action_loyalty_plus_wallet_test()

    def test_rate_limiter_spaces_requests(self):
        limiter = RateLimiter(rate=20)
        start = time.monotonic()
        for _i in range(6):
            limiter.wait()
        self.assertGreaterEqual(time.monotonic() - start, 5 * 0.05 - 0.005)
