import io
import re
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import LoyaltyPlusWebsiteCase

JOIN_URL = "/loyalty/web-bakery/join"
QR_RE = re.compile(r'<img class="o_loyalty_plus_mail_qr"[^>]* src="([^"]+)"')
SIGNUP_RE = re.compile(r'href="([^"]*/web/signup\?[^"]+)"')


@tagged("post_install", "-at_install")
class TestEnrollmentAccount(LoyaltyPlusWebsiteCase):
    """An account from enrollment: the welcome email carries the card (QR code, number) and the
    link to set a password; the welcome page offers the same link to a customer it just created."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["loyalty_plus"], ["fr_FR"], overwrite=True)
        cls.env.invalidate_all()  # the terms are written in SQL
        cls.program.primary_color = "#8A3B12"

    def _enroll(self, email="anna.weber@example.com", lang="en_US"):
        data = {
            "first_name": "Anna",
            "last_name": "Weber",
            "email": email,
            "phone": "+352 621 000 777",
            "lang": lang,
            "terms": "1",
            "csrf_token": self.get_csrf_token(JOIN_URL),
        }
        response = self.url_open(JOIN_URL, data=data, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        return self.env["loyalty_plus.card"].search([("partner_id.email", "=", email)])

    def _welcome_mail(self, card):
        mails = self.env["mail.mail"].search([("model", "=", "loyalty_plus.card"), ("res_id", "=", card.id)])
        welcome = mails.filtered(lambda mail: "o_loyalty_plus_mail_qr" in mail.body_html)
        self.assertEqual(len(welcome), 1, mails.mapped("subject"))
        return welcome

    def _path(self, url):
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    def test_welcome_email_carries_card_qr_and_account_link(self):
        card = self._enroll()
        self.assertEqual(len(card), 1)
        mail = self._welcome_mail(card)
        body = mail.body_html
        base_url = card.get_base_url()
        # branded: the merchant's name and the program's colour frame the message
        self.assertIn("Web Bakery", body)
        self.assertIn("background-color: #8A3B12", body)
        self.assertIn(card._get_formatted_number(), body)

        qr_url = QR_RE.search(body).group(1).replace("&amp;", "&")
        self.assertTrue(qr_url.startswith(f"{base_url}/loyalty_plus/card/{card.id}/qr.png?access_token="), qr_url)
        image = self.url_open(self._path(qr_url))
        self.assertEqual(image.status_code, 200)
        self.assertEqual(image.headers["Content-Type"], "image/png")
        self.assertEqual(Image.open(io.BytesIO(image.content)).format, "PNG")
        # the signature is the card's: another card's number, or no signature, fetches nothing
        self.assertEqual(self.url_open(f"/loyalty_plus/card/{self.card_lea.id}/qr.png?access_token=x").status_code, 404)
        forged = self._path(qr_url).replace(f"/card/{card.id}/", f"/card/{self.card_lea.id}/")
        self.assertEqual(self.url_open(forged).status_code, 404)
        self.assertEqual(self.url_open(f"/loyalty_plus/card/{card.id}/qr.png").status_code, 404)

        signup_url = SIGNUP_RE.search(body).group(1).replace("&amp;", "&")
        self.assertTrue(signup_url.startswith(f"{base_url}/web/signup?"), signup_url)
        query = parse_qs(urlsplit(signup_url).query)
        self.assertEqual(query["redirect"], ["/my/loyalty"])
        info = self.env["res.partner"].sudo()._signup_retrieve_info(query["token"][0])
        self.assertEqual(info and info["login"], "anna.weber@example.com", "the token is the customer's")
        page = self.url_open(self._path(signup_url))
        self.assertEqual(page.status_code, 200)
        self.assertIn('value="anna.weber@example.com"', page.text)

    def test_welcome_page_offers_the_link_to_a_new_customer_only(self):
        card = self._enroll()
        welcome = self.url_open("/loyalty/web-bakery/welcome").text
        link = re.search(
            r'class="btn btn-primary o_loyalty_plus_set_password" href="([^"]+)"|'
            r'href="([^"]+)" class="btn btn-primary o_loyalty_plus_set_password"',
            welcome,
        )
        self.assertTrue(link, welcome[:2000])
        token = parse_qs(urlsplit((link.group(1) or link.group(2)).replace("&amp;", "&")).query)["token"][0]
        self.assertEqual(self.env["res.partner"].sudo()._signup_retrieve_partner(token), card.partner_id)

        # a customer the merchant already knew (a new card for them all the same): their account is
        # reached from their own mailbox, not from a form anybody can fill in with their email
        known = self.env["res.partner"].create(
            {"name": "Known Customer", "email": "known@example.com", "company_id": self.bakery.id}
        )
        self.opener.cookies.clear()
        card = self._enroll(email="known@example.com")
        self.assertEqual(card.partner_id, known)
        welcome = self.url_open("/loyalty/web-bakery/welcome").text
        self.assertIn(card._get_formatted_number(), welcome)
        self.assertNotIn("o_loyalty_plus_set_password", welcome)
        self.assertIn("o_loyalty_plus_sign_in", welcome)
        self.assertTrue(SIGNUP_RE.search(self._welcome_mail(card).body_html), "the email still carries it")

    def test_customer_with_an_account_gets_a_sign_in_link(self):
        card = self.card_lea
        card._send_lifecycle_mail("mail_template_reengagement")
        mail = self.env["mail.mail"].search([("model", "=", "loyalty_plus.card"), ("res_id", "=", card.id)])
        self.assertEqual(len(mail), 1)
        self.assertNotIn("/web/signup", mail.body_html)
        self.assertIn("/web/login?redirect=%2Fmy%2Floyalty&amp;login=lp_web_lea", mail.body_html)

    def test_email_in_customer_language(self):
        card = self._enroll(lang="fr_FR")
        body = self._welcome_mail(card).body_html
        self.assertIn('lang="fr_FR"', body)
        self.assertIn("Bonjour", body)
        self.assertIn("Choisir mon mot de passe", body)
        self.assertIn("Numéro de carte", body)

    def test_wallet_buttons_where_a_wallet_is_configured(self):
        card = self._enroll()
        body = self._welcome_mail(card).body_html
        links = card._get_wallet_links()
        if links:
            for link in links:
                self.assertIn(f"{card.get_base_url()}{link['url']}", body)
        else:
            self.assertNotIn("o_loyalty_plus_mail_wallet", body)

    def test_enroll_then_email_link_sets_password_and_portal_shows_card(self):
        self.start_tour(JOIN_URL, "loyalty_plus_website_account_enroll")
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "anna.weber@example.com")])
        self.assertEqual(len(card), 1)
        signup_url = SIGNUP_RE.search(self._welcome_mail(card).body_html).group(1).replace("&amp;", "&")
        self.start_tour(self._path(signup_url), "loyalty_plus_website_account_set_password")
        user = card.partner_id.user_ids
        self.assertEqual(len(user), 1)
        self.assertTrue(user._is_portal())
        self.assertEqual(user.login, "anna.weber@example.com")
        # the link has done its work: it cannot set the password a second time
        self.assertIsNone(
            self.env["res.partner"].sudo()._get_partner_from_token(parse_qs(urlsplit(signup_url).query)["token"][0])
        )

    def test_email_already_a_login_gets_a_sign_in_link(self):
        """A customer of another merchant with the same email: their address is already a login,
        so the email leads to the sign-in, not to a sign-up that would fail."""
        zoe = new_test_user(
            self.env,
            login="zoe.both@example.com",
            email="zoe.both@example.com",
            groups="base.group_portal",
            company_id=self.bakery.id,
            company_ids=[Command.set(self.bakery.ids)],
        )
        zoe.partner_id.company_id = self.bakery  # the bakery's customer, whom the café does not see
        cafe = self.env["res.company"].create({"name": "Web Café", "currency_id": self.env.ref("base.EUR").id})
        self.env["loyalty_plus.program"].create(
            {"name": "Café Card", "company_id": cafe.id, "program_type": "stamps", "require_staff_pin": False}
        )
        card, created = self.env["loyalty_plus.card"]._enroll_customer(
            {"name": "Zoe Both", "email": "zoe.both@example.com", "phone": "+352 621 555 222"}, cafe
        )
        self.assertTrue(created)
        self.assertNotEqual(card.partner_id, zoe.partner_id, "the café's own customer")
        body = self._welcome_mail(card).body_html
        self.assertNotIn("/web/signup", body)
        self.assertIn("/web/login?redirect=%2Fmy%2Floyalty&amp;login=zoe.both%40example.com", body)
