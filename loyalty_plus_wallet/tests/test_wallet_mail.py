import re

from odoo.tests import tagged

from .common import WalletCase


@tagged("post_install", "-at_install")
class TestWalletMail(WalletCase):
    """The welcome email of a merchant with Apple and Google Wallet carries the two buttons, as
    addresses a mail client opens (on the merchant's website)."""

    def test_welcome_email_has_the_wallet_buttons(self):
        before = self.env["mail.mail"].search([])
        card, created = self.env["loyalty_plus.card"]._enroll_customer(
            {"name": "Nora Wallet", "email": "nora.wallet@example.com", "phone": "+352 621 555 999"}, self.bakery
        )
        self.assertTrue(created)
        mails = self.env["mail.mail"].search([]) - before
        welcome = mails.filtered(lambda mail: "o_loyalty_plus_mail_qr" in mail.body_html)
        self.assertEqual(len(welcome), 1)
        body = welcome.body_html
        base_url = card.get_base_url()
        links = card._get_wallet_links()
        self.assertEqual({link["provider"] for link in links}, {"apple", "google"})
        for link in links:
            with self.subTest(provider=link["provider"]):
                self.assertIn(f'href="{base_url}{link["url"]}"', body)
                self.assertIn(link["label"], body)
        self.assertEqual(len(re.findall(r'class="o_loyalty_plus_mail_wallet"', body)), 1)
        # a merchant without a wallet: no button, no empty block
        self.bakery.write(
            {"loyalty_plus_wallet_google_issuer_id": False, "loyalty_plus_wallet_apple_certificate": False}
        )
        before = self.env["mail.mail"].search([])
        card, _created = self.env["loyalty_plus.card"]._enroll_customer(
            {"name": "Paul Plain", "email": "paul.plain@example.com", "phone": "+352 621 555 998"}, self.bakery
        )
        body = "".join((self.env["mail.mail"].search([]) - before).mapped("body_html"))
        self.assertIn("o_loyalty_plus_mail_qr", body)
        self.assertNotIn("o_loyalty_plus_mail_wallet", body)
