from odoo.tests import tagged

from .common import LoyaltyPlusCase

TEMPLATES = [
    "mail_template_enrollment",
    "mail_template_welcome_bonus",
    "mail_template_points_expiring",
    "mail_template_points_expired",
    "mail_template_reward_ready",
    "mail_template_birthday",
    "mail_template_reengagement",
    "mail_template_tier_changed",
]
# a word each language's emails start with
GREETINGS = {"en_US": "Hello", "fr_FR": "Bonjour", "de_DE": "Hallo", "lb_LU": "Moien"}
BIRTHDAY = {"en_US": "Happy birthday", "fr_FR": "Joyeux anniversaire", "de_DE": "Alles Gute", "lb_LU": "Alles Guddes"}


@tagged("post_install", "-at_install")
class TestLifecycleEmails(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("fr_FR", "de_DE", "lb_LU"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._load_module_terms(["loyalty_plus"], ["fr_FR", "de_DE", "lb_LU"], overwrite=True)
        cls.program.write({"points_expiration_days": 100, "birthday_bonus_points": 10})
        cls.card._apply_ledger({"transaction_type": "points_earned", "points_delta": 40, "shop_id": cls.bakery.id})

    def test_every_email_renders_in_four_languages(self):
        subjects = {}
        for lang in GREETINGS:
            self.partner.lang = lang
            for xmlid in TEMPLATES:
                template = self.env.ref(f"loyalty_plus.{xmlid}")
                values = template._generate_template(self.card.ids, ["subject", "body_html", "lang"])[self.card.id]
                with self.subTest(lang=lang, template=xmlid):
                    self.assertEqual(values["lang"], lang)
                    self.assertTrue(values["subject"])
                    if xmlid == "mail_template_birthday":
                        self.assertIn(BIRTHDAY[lang], values["body_html"])
                    else:
                        self.assertIn(GREETINGS[lang], values["body_html"])
                    self.assertIn(self.partner.name, values["body_html"])
                    subjects.setdefault(xmlid, set()).add(values["subject"])
        for xmlid, seen in subjects.items():
            self.assertEqual(len(seen), 4, f"{xmlid}: one subject per language, got {seen}")

    def test_welcome_email_gives_the_points_rate_in_the_customer_notation(self):
        self.program.points_per_euro = 0.5
        template = self.env.ref("loyalty_plus.mail_template_enrollment")
        for lang, rate in (("en_US", "0.5"), ("fr_FR", "0,5"), ("de_DE", "0,5"), ("lb_LU", "0,5")):
            self.partner.lang = lang
            body = template._generate_template(self.card.ids, ["body_html"])[self.card.id]["body_html"]
            with self.subTest(lang=lang):
                self.assertIn(f"<strong>{rate}</strong>", body)

    def test_enroll_sends_enrollment_and_welcome_in_customer_language(self):
        before = self.env["mail.mail"].search([])
        result = self.env["loyalty_plus.card"].enroll(
            "Jean Dupont", "jean@example.com", shop_id=self.bakery.id, lang="fr_FR"
        )
        mails = self.env["mail.mail"].search([]) - before
        self.assertTrue(result["created"])
        self.assertEqual(len(mails), 2, "enrollment and welcome bonus")
        self.assertTrue(all(mail.state == "outgoing" for mail in mails), "queued, not sent inline")
        self.assertTrue(all("Bonjour" in mail.body_html for mail in mails))
        # enrolling again returns the card and sends nothing
        self.env["loyalty_plus.card"].enroll("Jean Dupont", "jean@example.com", shop_id=self.bakery.id)
        self.assertEqual(self.env["mail.mail"].search([]) - before, mails)

    def test_marketing_emails_need_consent(self):
        self.card.marketing_consent = False
        self.assertFalse(self.card._send_lifecycle_mail("mail_template_birthday", marketing=True))
        self.assertTrue(self.card._send_lifecycle_mail("mail_template_points_expiring"))
        self.card.marketing_consent = True
        self.assertTrue(self.card._send_lifecycle_mail("mail_template_reengagement", marketing=True))

    def test_every_email_is_html_in_the_merchant_layout(self):
        """Every card email goes out in the layout of the merchant: its name on the program's colour,
        the message, then the link into the customer's account, in the customer's language."""
        self.program.primary_color = "#8A3B12"
        account_button = {
            "en_US": "Set my password",
            "fr_FR": "Choisir mon mot de passe",
            "de_DE": "Mein Passwort festlegen",
            "lb_LU": "Mäi Passwuert festleeën",
        }
        self.card._prepare_account_invitation()
        for lang, button in account_button.items():
            self.partner.lang = lang
            for xmlid in TEMPLATES:
                with self.subTest(lang=lang, template=xmlid):
                    before = self.env["mail.mail"].search([])
                    self.card._send_lifecycle_mail(xmlid)
                    mail = self.env["mail.mail"].search([]) - before
                    self.assertEqual(len(mail), 1)
                    body = mail.body_html
                    self.assertIn(f'<html lang="{lang}">', body)
                    self.assertIn("o_loyalty_plus_mail_header", body)
                    self.assertIn("background-color: #8A3B12", body)
                    self.assertIn("Test Bakery", body)
                    self.assertIn(button, body)
                    self.assertRegex(body, r'href="https?://[^"]+/web/signup\?[^"]*token=')
                    self.assertNotIn("<t ", body, "nothing left unrendered")
