import base64
import io
import json
import time
import zipfile
from datetime import UTC, timedelta, timezone
from email.utils import format_datetime

from PIL import Image

from odoo.tests import HttpCase, tagged

from .common import PASS_TYPE_ID, WalletCase

PREFIX = "/loyalty_plus_wallet/apple/v1"
TOKEN_1, TOKEN_2 = "0a1b" * 16, "fe" * 32


@tagged("post_install", "-at_install")
class TestPassKitWebService(WalletCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wallet_pass = cls.env["loyalty_plus.wallet_pass"]._get_for_card(cls.card, create=True)
        cls.token = cls.wallet_pass.authentication_token
        cls.serial = cls.card.card_number

    def _call(self, method, path, token=None, body=None, headers=None):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"ApplePass {token}"
        data = json.dumps(body) if body is not None else None
        if data:
            headers["Content-Type"] = "application/json"
        return self.url_open(path, data=data, headers=headers, method=method, allow_redirects=False)

    def test_whole_web_service(self):
        register = f"{PREFIX}/devices/dev-1/registrations/{PASS_TYPE_ID}/{self.serial}"
        # register: bad token, wrong pass type, then new (201) and known (200)
        self.assertEqual(self._call("POST", register, "wrong-token-xxxxxxxx", {"pushToken": TOKEN_1}).status_code, 401)
        self.assertEqual(self._call("POST", register, None, {"pushToken": TOKEN_1}).status_code, 401)
        wrong_type = f"{PREFIX}/devices/dev-1/registrations/pass.other.type/{self.serial}"
        self.assertEqual(self._call("POST", wrong_type, self.token, {"pushToken": TOKEN_1}).status_code, 401)
        self.assertEqual(self._call("POST", register, self.token, {}).status_code, 400)
        # a token that is not hex would break every later push (a newline makes httpx refuse the URL)
        for bad_token in ("ab\ncd" + "0" * 40, "zz", "p1", "0" * 201, 12345):
            with self.subTest(token=bad_token):
                self.assertEqual(self._call("POST", register, self.token, {"pushToken": bad_token}).status_code, 400)
        nul_device = f"{PREFIX}/devices/dev%001/registrations/{PASS_TYPE_ID}/{self.serial}"
        self.assertEqual(self._call("POST", nul_device, self.token, {"pushToken": TOKEN_1}).status_code, 400)
        nul_serial = f"{PREFIX}/devices/dev-1/registrations/{PASS_TYPE_ID}/{self.serial}%00"
        self.assertEqual(self._call("POST", nul_serial, self.token, {"pushToken": TOKEN_1}).status_code, 401)
        nul_listing = f"{PREFIX}/devices/dev%00/registrations/{PASS_TYPE_ID}"
        self.assertEqual(self._call("GET", nul_listing).status_code, 204)
        self.assertFalse(self.env["loyalty_plus.wallet_registration"].search([("pass_id", "=", self.wallet_pass.id)]))
        self.assertEqual(self._call("POST", register, self.token, {"pushToken": TOKEN_1}).status_code, 201)
        self.assertEqual(self._call("POST", register, self.token, {"pushToken": TOKEN_2}).status_code, 200)
        registrations = self.env["loyalty_plus.wallet_registration"].search([("pass_id", "=", self.wallet_pass.id)])
        self.assertEqual(registrations.mapped("push_token"), [TOKEN_2])  # upserted, not duplicated

        # serials updated since a tag
        listing = f"{PREFIX}/devices/dev-1/registrations/{PASS_TYPE_ID}"
        response = self._call("GET", listing)
        self.assertEqual(response.status_code, 200)
        payload = response.json()
        self.assertEqual(payload["serialNumbers"], [self.serial])
        self.assertIsInstance(payload["lastUpdated"], str)
        tag = payload["lastUpdated"]
        self.assertEqual(self._call("GET", f"{listing}?passesUpdatedSince={tag}").status_code, 204)
        self.assertEqual(self._call("GET", f"{PREFIX}/devices/unknown/registrations/{PASS_TYPE_ID}").status_code, 204)
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        # devices hear of a change when it is pushed: the push takes its tag (in commit order)
        self.assertEqual(self._call("GET", f"{listing}?passesUpdatedSince={tag}").status_code, 204)
        self.wallet_pass._assign_update_tags()
        response = self._call("GET", f"{listing}?passesUpdatedSince={tag}")
        self.assertEqual(response.status_code, 200)
        self.assertGreater(int(response.json()["lastUpdated"]), int(tag))

        # the latest pass: 401, 200 with Last-Modified, 304 when not modified, 200 again after a change
        latest = f"{PREFIX}/passes/{PASS_TYPE_ID}/{self.serial}"
        self.assertEqual(self._call("GET", latest, "x" * 40).status_code, 401)
        response = self._call("GET", latest, self.token)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/vnd.apple.pkpass")
        last_modified = response.headers["Last-Modified"]
        pass_json = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("pass.json"))
        stamps = next(f for f in pass_json["storeCard"]["primaryFields"] if f["key"] == "stamps")
        self.assertEqual(stamps["value"], "1/3")
        response = self._call("GET", latest, self.token, headers={"If-Modified-Since": last_modified})
        self.assertEqual(response.status_code, 304)
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.bakery.id}, lock=False
        )
        response = self._call("GET", latest, self.token, headers={"If-Modified-Since": last_modified})
        self.assertEqual(response.status_code, 200)
        self.assertNotEqual(response.headers["Last-Modified"], last_modified)
        older = format_datetime(self.wallet_pass.last_modified.replace(year=2020), usegmt=False)
        self.assertEqual(self._call("GET", latest, self.token, headers={"If-Modified-Since": older}).status_code, 200)
        # the same instants written with other offsets: an hour before the change (+0200 reads later
        # on the clock) is still modified, an hour after it (-0200 reads earlier) is not
        modified = self.wallet_pass.last_modified.replace(tzinfo=UTC)
        before = format_datetime((modified - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))))
        after = format_datetime((modified + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-2))))
        self.assertIn("+0200", before)
        self.assertEqual(self._call("GET", latest, self.token, headers={"If-Modified-Since": before}).status_code, 200)
        self.assertEqual(self._call("GET", latest, self.token, headers={"If-Modified-Since": after}).status_code, 304)

        # log, then unregister (401 without the token)
        self.assertEqual(self._call("POST", f"{PREFIX}/log", body={"logs": ["hello"]}).status_code, 200)
        self.assertEqual(self._call("DELETE", register, "bad-token-xxxxxxxxxx").status_code, 401)
        self.assertEqual(self._call("DELETE", register, self.token).status_code, 200)
        self.assertFalse(self.env["loyalty_plus.wallet_registration"].search([("pass_id", "=", self.wallet_pass.id)]))

    def test_customer_links(self):
        links = {link["provider"]: link["url"] for link in self.card2_links()}
        response = self.url_open(links["apple"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/vnd.apple.pkpass")
        self.assertIn("pass.json", zipfile.ZipFile(io.BytesIO(response.content)).namelist())
        response = self.url_open(links["google"], allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].startswith("https://pay.google.com/gp/v/save/"))
        self.assertLess(len(response.headers["Location"]), 1800)
        self.assertEqual(self.url_open(links["apple"].replace(".pkpass", "x.pkpass")).status_code, 404)
        logo = self.url_open(f"/loyalty_plus_wallet/program/{self.program.id}/logo.png")
        self.assertEqual(logo.headers["Content-Type"], "image/png")
        hero_url = f"/loyalty_plus_wallet/program/{self.program.id}/hero.png"
        self.assertEqual(self.url_open(hero_url).status_code, 404, "no hero image yet")
        out = io.BytesIO()
        Image.new("RGB", (1200, 600), (10, 120, 60)).save(out, format="PNG")
        self.program.hero_image = base64.b64encode(out.getvalue())
        hero = self.url_open(hero_url)
        self.assertEqual(hero.headers["Content-Type"], "image/png")
        self.assertEqual(Image.open(io.BytesIO(hero.content)).size, (1032, 336))

    def test_save_link_does_not_hold_the_worker(self):
        """A customer waits on the save link: Google failing gets one short try, not 4 x 20 s plus
        backoff sleeps that outlast the worker's time limit (the cron does the retries)."""
        links = {link["provider"]: link["url"] for link in self.card2_links()}
        self.google.script["POST /walletobjects/v1/loyaltyClass"] = [503] * 4
        start = time.monotonic()
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.controllers.wallet", "WARNING"):
            response = self.url_open(links["google"], allow_redirects=False)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(len(self.google.api_requests()), 1)
        self.assertLess(time.monotonic() - start, 5)
        client = self.bakery._loyalty_plus_wallet_google_client(interactive=True)
        self.assertLessEqual(client.timeout, 10)

    def test_save_link_refused_is_kept_and_told(self):
        """A refusal (403: the account may not use the issuer) is no "try again later": the customer
        is told the shop must act, and the error stays on the pass for the merchant."""
        card = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        links = {link["provider"]: link["url"] for link in card._get_wallet_links()}
        self.google.script["POST /walletobjects/v1/loyaltyClass"] = [403]
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.controllers.wallet", "WARNING"):
            response = self.url_open(links["google"], allow_redirects=False)
        self.assertEqual(response.status_code, 502)
        self.assertIn("settings need attention", response.text)
        wallet_pass = self.env["loyalty_plus.wallet_pass"].search([("card_id", "=", card.id)])
        self.assertIn("403", wallet_pass.last_error)
        self.assertEqual(wallet_pass.failure_count, 1)
        # a transient failure is one: try again later, and kept too
        self.google.script["POST /walletobjects/v1/loyaltyClass"] = [503]
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.controllers.wallet", "WARNING"):
            response = self.url_open(links["google"], allow_redirects=False)
        self.assertEqual(response.status_code, 503)
        self.assertIn("try again later", response.text)
        wallet_pass.invalidate_recordset()
        self.assertIn("503", wallet_pass.last_error)
        self.assertEqual(wallet_pass.failure_count, 2)

    def card2_links(self):
        card = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        return card._get_wallet_links()

    def test_hostile_input_is_a_client_error(self):
        """What a stranger can send to the public routes gets a 4xx (or a 503 for the merchant's
        broken set-up), never a 500."""
        deep = b"[" * 100_000 + b"]" * 100_000
        register = f"{PREFIX}/devices/dev-9/registrations/{PASS_TYPE_ID}/{self.serial}"
        headers = {"Authorization": f"ApplePass {self.token}", "Content-Type": "application/json"}
        self.assertEqual(self.url_open(register, data=deep, headers=headers, method="POST").status_code, 400)
        log = self.url_open(f"{PREFIX}/log", data=deep, headers={"Content-Type": "application/json"}, method="POST")
        self.assertEqual(log.status_code, 200, "Apple's log endpoint takes anything")
        google_link = f"/loyalty_plus_wallet/google/{self.serial}/%C3%A9%C3%A9"
        self.assertEqual(self.url_open(google_link, allow_redirects=False).status_code, 404)
        # a pass type set up without its certificate: the merchant's set-up is broken, not the request
        self.bakery.sudo().write({"loyalty_plus_wallet_apple_certificate": False})
        latest = f"{PREFIX}/passes/{PASS_TYPE_ID}/{self.serial}"
        self.assertEqual(self._call("GET", latest, self.token).status_code, 503)
