import datetime
import json
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from odoo.addons.loyalty_plus.tests.test_health import HealthCase

from .common import _key, _pem, make_service_account


def certificate_expiring(not_after):
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pass Type ID: pass.lu.cafe.loyalty")])
    return _pem(
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after.replace(tzinfo=datetime.UTC))
        .sign(key, hashes.SHA256())
    )


@tagged("post_install", "-at_install")
class TestWalletHealth(HealthCase):
    def test_apple_certificate_expiring_within_30_days(self):
        expiry = self.T0 + timedelta(days=60)
        self.cafe.loyalty_plus_wallet_apple_certificate = certificate_expiring(expiry)
        key = "credential:apple_certificate"
        self.evaluate(expiry - timedelta(days=30, minutes=1))
        self.assertEqual(self.check(key, self.cafe).state, "green")
        check, _incident = self.assertFiresOnceThenClears(
            key,
            self.cafe,
            breach_at=expiry - timedelta(days=29, hours=23),
            still_at=expiry - timedelta(days=20),
            # rotated: the new certificate runs for a year
            recover=lambda: self.cafe.write(
                {"loyalty_plus_wallet_apple_certificate": certificate_expiring(expiry + timedelta(days=365))}
            ),
            recovered_at=expiry - timedelta(days=19),
            state="amber",
        )
        self.assertAlmostEqual(check.value, 384, delta=1)

    def test_expired_certificate_is_red(self):
        expiry = self.T0 + timedelta(days=2)
        self.cafe.loyalty_plus_wallet_apple_certificate = certificate_expiring(expiry)
        self.evaluate(expiry + timedelta(minutes=1))
        check = self.check("credential:apple_certificate", self.cafe)
        self.assertEqual(check.state, "red")
        self.assertEqual(check.open_incident_id.severity, "red")

    def test_google_key_expiry_entered_by_the_administrator(self):
        account, _key_object = make_service_account("https://oauth2.example.com/token")
        self.cafe.write(
            {
                "loyalty_plus_wallet_google_service_account": json.dumps(account),
                "loyalty_plus_wallet_google_key_expiry": (self.T0 + timedelta(days=40)).date(),
            }
        )
        key = "credential:google_service_account"
        self.evaluate(self.T0)
        self.assertEqual(self.check(key, self.cafe).state, "green")
        self.evaluate(self.T0 + timedelta(days=11))
        self.assertEqual(self.check(key, self.cafe).state, "amber")
        # a threshold of the settings
        self.env["ir.config_parameter"].sudo().set_param("loyalty_plus.health.credential_days", 20)
        self.evaluate(self.T0 + timedelta(days=11))
        self.assertEqual(self.check(key, self.cafe).state, "green")

    def test_wallet_sync_failures_over_5_percent(self):
        Pass = self.env["loyalty_plus.wallet_pass"]
        passes = Pass.browse()
        for number in range(22):
            partner = self.env["res.partner"].create({"name": f"Member {number}", "email": f"m{number}@example.com"})
            card = self.env["loyalty_plus.card"].create(
                {"partner_id": partner.id, "program_id": self.cafe_program.id, "shop_id": self.cafe.id}
            )
            passes |= Pass._get_for_card(card, create=True)
        passes.flush_recordset()

        def set_passes(failing, updated, at):
            self.env.cr.execute(
                SQL(
                    """UPDATE loyalty_plus_wallet_pass
                          SET failure_count = CASE WHEN id = ANY(%s) THEN 2 ELSE 0 END,
                              last_error = CASE WHEN id = ANY(%s) THEN 'APNs 500 InternalServerError' END,
                              last_push_date = CASE WHEN id = ANY(%s) THEN %s::timestamp END
                        WHERE id = ANY(%s)""",
                    failing.ids,
                    failing.ids,
                    updated.ids,
                    at,
                    passes.ids,
                )
            )
            passes.invalidate_recordset()

        # 1 failing against 19 brought up to date: 5 %, not over
        set_passes(passes[:1], passes[2:21], self.T0)
        self.evaluate(self.T0 + timedelta(minutes=5))
        check = self.check("wallet_sync", self.cafe)
        self.assertEqual((check.state, check.value), ("green", 5.0), check.message)
        set_passes(passes[:2], passes[2:21], self.T0)
        self.assertEqual(Pass.search(check.action_open_failing_wallet_passes()["domain"]), passes[:2])
        check, incident = self.assertFiresOnceThenClears(
            "wallet_sync",
            self.cafe,
            breach_at=self.T0 + timedelta(minutes=10),
            still_at=self.T0 + timedelta(minutes=15),
            # a manual re-sync brought the two failing passes up to date
            recover=lambda: set_passes(Pass.browse(), passes[:21], self.T0 + timedelta(minutes=16)),
            recovered_at=self.T0 + timedelta(minutes=20),
            state="amber",
        )
        self.assertIn("2 passes failing", incident.message)
        self.assertFalse(Pass.search(check.action_open_failing_wallet_passes()["domain"]))
        self.assertEqual(self.check("wallet_sync", self.bakery), Pass.browse().env["loyalty_plus.health.check"])

    def test_wallet_checks_in_the_endpoint_measures(self):
        self.cafe.loyalty_plus_wallet_apple_certificate = certificate_expiring(self.T0 + timedelta(days=90))
        with freeze_time(self.T0):
            measures = self.Check._get_measures(self.cafe, platform=False)
        credential = next(m for m in measures if m["key"] == "credential:apple_certificate")
        self.assertEqual(credential["company_id"], self.cafe.id)
        self.assertAlmostEqual(credential["metrics"]["credential_days_left"], 90, delta=0.01)
