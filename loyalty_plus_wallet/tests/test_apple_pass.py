import hashlib
import io
import json
import os
import subprocess
import tempfile
import zipfile

from odoo.exceptions import AccessError, ValidationError
from odoo.modules import neutralize
from odoo.tests import tagged

from .common import ISSUER_ID, PASS_TYPE_ID, TEAM_ID, WalletCase, make_pki

REQUIRED_KEYS = {
    "formatVersion",
    "passTypeIdentifier",
    "serialNumber",
    "teamIdentifier",
    "organizationName",
    "description",
    "barcodes",
    "storeCard",
    "webServiceURL",
    "authenticationToken",
    "foregroundColor",
    "backgroundColor",
    "labelColor",
}


@tagged("post_install", "-at_install")
class TestApplePass(WalletCase):
    def _pkpass(self, card=None):
        wallet_pass = self.Pass._get_for_card(card or self.card, create=True)
        return wallet_pass, zipfile.ZipFile(io.BytesIO(wallet_pass._generate_pkpass()))

    def _openssl_verify(self, signature, manifest):
        with tempfile.TemporaryDirectory() as folder:
            paths = {}
            for name, data in (("signature", signature), ("manifest.json", manifest), ("root.pem", self.pki["root"])):
                paths[name] = os.path.join(folder, name)
                with open(paths[name], "wb") as handle:
                    handle.write(data if isinstance(data, bytes) else data.encode())
            return subprocess.run(
                [
                    "openssl", "smime", "-verify", "-binary", "-inform", "DER",
                    "-in", paths["signature"], "-content", paths["manifest.json"],
                    "-CAfile", paths["root.pem"], "-purpose", "any", "-out", os.devnull,
                ],
                capture_output=True,
                check=False,
                timeout=30,
            )  # fmt: skip

    def setUp(self):
        super().setUp()
        # Wallet only calls https web services: the pass carries the service URL only then
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://bakery.example.lu")

    def test_pass_bundle_signed_and_verifiable(self):
        self.program.write({"primary_color": "#4F46E5", "secondary_color": "#FFFFFF", "card_name": "Bakery Card"})
        _wallet_pass, bundle = self._pkpass()
        names = set(bundle.namelist())
        self.assertLessEqual(
            {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png", "icon@3x.png"}, names
        )
        pass_json = json.loads(bundle.read("pass.json"))
        self.assertLessEqual(REQUIRED_KEYS, pass_json.keys())
        self.assertEqual(pass_json["formatVersion"], 1)
        self.assertEqual(pass_json["passTypeIdentifier"], PASS_TYPE_ID)
        self.assertEqual(pass_json["teamIdentifier"], TEAM_ID)
        self.assertEqual(pass_json["serialNumber"], self.card.card_number)
        self.assertEqual(pass_json["organizationName"], self.bakery.name)
        self.assertEqual(pass_json["backgroundColor"], "rgb(79, 70, 229)")
        self.assertEqual(pass_json["foregroundColor"], "rgb(255, 255, 255)")
        self.assertEqual(
            pass_json["barcodes"],
            [
                {
                    "format": "PKBarcodeFormatQR",
                    "message": self.card.qr_payload,
                    "messageEncoding": "iso-8859-1",
                    "altText": self.card.card_number,
                }
            ],
        )
        self.assertEqual(pass_json["webServiceURL"], "https://bakery.example.lu/loyalty_plus_wallet/apple")
        token = pass_json["authenticationToken"]
        self.assertGreaterEqual(len(token), 16)
        fields = {f["key"]: f for part in pass_json["storeCard"].values() for f in part}
        self.assertEqual(fields["stamps"]["value"], "0/3")
        self.assertEqual(fields["points"]["value"], 20)  # welcome bonus
        self.assertIn("%@", fields["stamps"]["changeMessage"])
        self.assertIn("%@", fields["points"]["changeMessage"])
        self.assertIn("tier", fields)

        manifest = json.loads(bundle.read("manifest.json"))
        self.assertEqual(set(manifest), names - {"manifest.json", "signature"})
        for name, digest in manifest.items():
            self.assertEqual(hashlib.sha1(bundle.read(name)).hexdigest(), digest, name)

        signature, manifest_bytes = bundle.read("signature"), bundle.read("manifest.json")
        result = self._openssl_verify(signature, manifest_bytes)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertIn(b"Verification successful", result.stderr)
        tampered = manifest_bytes.replace(b'"pass.json": "', b'"pass.json": "0')
        self.assertNotEqual(tampered, manifest_bytes)
        self.assertNotEqual(self._openssl_verify(signature, tampered).returncode, 0)

        # the signature carries the signing time and the WWDR intermediate
        dump = subprocess.run(
            ["openssl", "cms", "-cmsout", "-print", "-inform", "DER"],
            input=signature,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
        self.assertIn("signingTime", dump)
        self.assertIn("Test WWDR Intermediate", dump)

        # the token never changes, a second download gives the same pass identity
        _pass, again = self._pkpass()
        self.assertEqual(json.loads(again.read("pass.json"))["authenticationToken"], token)
        self.assertEqual(len(self.Pass.search([("card_id", "=", self.card.id)])), 1)

    def test_pass_follows_card(self):
        self.program.logo = self._png()
        self.card._apply_ledger(
            {"transaction_type": "stamp_earned", "stamps_delta": 2, "shop_id": self.bakery.id}, lock=False
        )
        self.card.action_archive()
        _pass, bundle = self._pkpass()
        pass_json = json.loads(bundle.read("pass.json"))
        fields = {f["key"]: f for part in pass_json["storeCard"].values() for f in part}
        self.assertEqual(fields["stamps"]["value"], "2/3")
        self.assertTrue(pass_json["voided"])
        self.assertTrue({"logo.png", "logo@2x.png", "logo@3x.png"} <= set(bundle.namelist()))

    def test_no_web_service_without_https(self):
        """An http:// web service would make the pass install, then never register nor update."""
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://bakery.example.lu")
        with self.assertLogs("odoo.addons.loyalty_plus_wallet.models.loyalty_plus_wallet_pass", "WARNING"):
            _pass, bundle = self._pkpass()
        pass_json = json.loads(bundle.read("pass.json"))
        self.assertNotIn("webServiceURL", pass_json)
        self.assertNotIn("authenticationToken", pass_json)
        settings = self.env["res.config.settings"].with_company(self.bakery).create({})
        action = settings.action_loyalty_plus_wallet_test()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("http://bakery.example.lu is not an https address", action["params"]["message"])

    def _png(self):
        from PIL import Image

        out = io.BytesIO()
        Image.new("RGB", (300, 100), (200, 30, 30)).save(out, format="PNG")
        import base64

        return base64.b64encode(out.getvalue())

    def test_settings_checked_on_save(self):
        other = make_pki()
        cases = [
            ({"loyalty_plus_wallet_apple_certificate": "not a certificate"}, "not a PEM certificate"),
            ({"loyalty_plus_wallet_apple_key": other["key"]}, "does not belong"),
            ({"loyalty_plus_wallet_apple_wwdr": other["wwdr"]}, "not issued by this WWDR"),
            ({"loyalty_plus_wallet_apple_pass_type_id": "pass.lu.other"}, "pass.lu.test.loyalty"),
            ({"loyalty_plus_wallet_apple_team_id": "short"}, "10 capital letters"),
            ({"loyalty_plus_wallet_apple_team_id": "ZZ99ZZ99ZZ"}, f"Apple team {TEAM_ID}, not ZZ99ZZ99ZZ"),
            ({"loyalty_plus_wallet_google_service_account": '{"client_email": "x"}'}, "private_key"),
            ({"loyalty_plus_wallet_google_issuer_id": "abc"}, "issuer ID"),
        ]
        for vals, message in cases:
            with (
                self.subTest(vals=list(vals)),
                self.assertRaisesRegex(ValidationError, message),
                self.env.cr.savepoint(),
            ):
                self.bakery.write(vals)
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("loyalty_plus_wallet_apple_certificate", arch)
        self.assertIn("action_loyalty_plus_wallet_test", arch)
        # the configuration test signs for real and fetches a Google token from the stand-in
        settings = self.env["res.config.settings"].with_company(self.bakery).create({})
        action = settings.action_loyalty_plus_wallet_test()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("passes can be signed", action["params"]["message"])
        self.assertIn("access token obtained", action["params"]["message"])
        self.assertEqual(self.google.requests[-2]["path"], "/token")
        issuer_check = self.google.requests[-1]
        self.assertEqual(
            (issuer_check["method"], issuer_check["path"], issuer_check["query"]),
            ("GET", "/walletobjects/v1/loyaltyClass", f"issuerId={ISSUER_ID}"),
        )

    def test_neutralized_copy_cannot_reach_live_passes(self):
        queries = list(neutralize.get_neutralization_queries(["loyalty_plus_wallet"]))
        self.assertEqual(len(queries), 1)
        self.assertTrue(self.bakery._loyalty_plus_wallet_google_ready())
        self.assertTrue(self.bakery._loyalty_plus_wallet_apple_ready())
        self.env.flush_all()
        self.env.cr.execute(queries[0])
        self.env.invalidate_all()
        self.assertFalse(self.bakery.sudo().loyalty_plus_wallet_google_service_account)
        self.assertFalse(self.bakery.sudo().loyalty_plus_wallet_apple_key)
        self.assertFalse(self.bakery._loyalty_plus_wallet_google_ready())
        self.assertFalse(self.bakery._loyalty_plus_wallet_apple_ready())
        self.assertEqual(self.card._get_wallet_links(), [])

    def test_secrets_hidden_from_non_admins(self):
        Company = self.env["res.company"]
        key_field = Company._fields["loyalty_plus_wallet_apple_key"]
        self.assertFalse(Company.with_user(self.manager)._has_field_access(key_field, "read"))
        self.assertTrue(Company.with_user(self.env.ref("base.user_admin"))._has_field_access(key_field, "read"))
        with self.assertRaises(AccessError):
            self.bakery.with_user(self.manager).read(["loyalty_plus_wallet_apple_key"])
