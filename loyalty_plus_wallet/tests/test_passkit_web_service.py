import io
import json
import zipfile
from email.utils import format_datetime

from odoo.tests import HttpCase, tagged

from .common import PASS_TYPE_ID, WalletCase

PREFIX = "/loyalty_plus_wallet/apple/v1"


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
        self.assertEqual(self._call("POST", register, "wrong-token-xxxxxxxx", {"pushToken": "p1"}).status_code, 401)
        self.assertEqual(self._call("POST", register, None, {"pushToken": "p1"}).status_code, 401)
        wrong_type = f"{PREFIX}/devices/dev-1/registrations/pass.other.type/{self.serial}"
        self.assertEqual(self._call("POST", wrong_type, self.token, {"pushToken": "p1"}).status_code, 401)
        self.assertEqual(self._call("POST", register, self.token, {}).status_code, 400)
        self.assertEqual(self._call("POST", register, self.token, {"pushToken": "p1"}).status_code, 201)
        self.assertEqual(self._call("POST", register, self.token, {"pushToken": "p2"}).status_code, 200)
        registrations = self.env["loyalty_plus.wallet_registration"].search([("pass_id", "=", self.wallet_pass.id)])
        self.assertEqual(registrations.mapped("push_token"), ["p2"])  # upserted, not duplicated

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
        self.card._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
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
        self.card._apply_ledger("stamp_earned", stamps=1, shop=self.bakery, lock=False)
        response = self._call("GET", latest, self.token, headers={"If-Modified-Since": last_modified})
        self.assertEqual(response.status_code, 200)
        self.assertNotEqual(response.headers["Last-Modified"], last_modified)
        older = format_datetime(self.wallet_pass.last_modified.replace(year=2020), usegmt=False)
        self.assertEqual(self._call("GET", latest, self.token, headers={"If-Modified-Since": older}).status_code, 200)

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

    def card2_links(self):
        card = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        return card._get_wallet_links()
