from datetime import date, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import LoyaltyPlusWebsiteCase

JOIN_URL = "/loyalty/web-bakery/join"
# the enrollment limits count per 10 minutes of the clock: the tests of them start at the start of one
WINDOW_START = "2026-12-07 10:00:00"


@tagged("post_install", "-at_install")
class TestEnrollmentController(LoyaltyPlusWebsiteCase):
    def _form(self, **overrides):
        values = {
            "first_name": "Nora",
            "last_name": "Schmit",
            "email": "nora.schmit@example.com",
            "phone": "+352 621 555 111",
            "birthday": "1990-04-12",
            "lang": "en_US",
            "terms": "1",
        }
        values.update(overrides)
        return {key: value for key, value in values.items() if value is not None}

    def _post(self, data, url=JOIN_URL, token=True):
        if token:
            data = dict(data, csrf_token=self.get_csrf_token(url))
        return self.url_open(url, data=data, allow_redirects=False)

    def _count(self, email="nora.schmit@example.com"):
        Partner = self.env["res.partner"].with_context(active_test=False)
        partners = Partner.search([("email", "=ilike", email)])
        cards = (
            self.env["loyalty_plus.card"].with_context(active_test=False).search([("partner_id", "in", partners.ids)])
        )
        return len(partners), len(cards)

    def test_join_page_says_what_members_get(self):
        self.program.stamps_reward_description = "Free pastry"
        page = self.url_open("/loyalty/web-bakery/join").text
        start = page.index("o_loyalty_plus_benefits")
        benefits = page[start : page.index("</ul>", start)]
        for fact in ("5 stamps", "Free pastry", "20</strong> welcome points", "10 points for each euro"):
            self.assertIn(fact, " ".join(benefits.split()))

    def test_enrollment_creates_card_and_shows_it(self):
        shop_url = f"{JOIN_URL}?shop={self.branch_esch.id}"
        response = self._post(self._form(marketing="1"), url=shop_url)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertTrue(response.headers["Location"].endswith("/loyalty/web-bakery/welcome"))
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "nora.schmit@example.com")])
        self.assertEqual(len(card), 1)
        self.assertEqual(card.shop_id, self.branch_esch)
        self.assertTrue(card.marketing_consent)
        self.assertTrue(card.terms_accepted_date)
        self.assertEqual(card.points_balance, 20, "the welcome bonus was granted")
        self.assertEqual(card.partner_id.name, "Nora Schmit")
        self.assertEqual(str(card.partner_id.birthday), "1990-04-12")
        welcome = self.url_open("/loyalty/web-bakery/welcome")
        self.assertEqual(welcome.status_code, 200)
        self.assertIn(card._get_formatted_number(), welcome.text)
        self.assertIn('src="data:image/svg+xml;base64,', welcome.text)
        # a new member has no account yet: no button into a sign-in wall, the card is in their email
        # with the link to set a password, which the page offers too
        self.assertNotIn('href="/my/loyalty"', welcome.text)
        self.assertIn("emailed you your card number", welcome.text)
        self.assertRegex(welcome.text, r'href="/web/signup\?[^"]*token=[^"]*redirect=%2Fmy%2Floyalty"')
        mails = self.env["mail.mail"].search([("model", "=", "loyalty_plus.card"), ("res_id", "=", card.id)])
        self.assertTrue(
            any(card._get_formatted_number() in mail.body_html for mail in mails),
            "the welcome email carries the card number",
        )
        links = card._get_wallet_links()
        if links:
            for link in links:
                self.assertIn(link["url"], welcome.text)
        else:
            self.assertNotIn("o_loyalty_plus_wallet_links", welcome.text)

    def test_signed_in_customer_goes_to_their_account(self):
        zoe = new_test_user(
            self.env,
            login="lp_web_zoe",
            password="lp_web_zoe",
            name="Zoe Portal",
            email="zoe.portal@example.com",
            groups="base.group_portal",
        )
        self.authenticate("lp_web_zoe", "lp_web_zoe")
        response = self._post(self._form(email="zoe.portal@example.com"))
        self.assertEqual(response.status_code, 303, response.text[:500])
        welcome = self.url_open("/loyalty/web-bakery/welcome").text
        self.assertIn('href="/my/loyalty"', welcome)
        self.assertNotIn("o_loyalty_plus_sign_in", welcome)
        card = self.env["loyalty_plus.card"].search([("partner_id", "=", zoe.partner_id.id)])
        self.assertEqual(len(card), 1)
        account = self.url_open("/my/loyalty")
        self.assertEqual(account.status_code, 200)
        self.assertIn(card._get_formatted_number(), account.text)

    def test_marketing_consent_is_opt_in(self):
        self.assertEqual(self._post(self._form()).status_code, 303)
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "nora.schmit@example.com")])
        self.assertFalse(card.marketing_consent)
        page = self.url_open(JOIN_URL).text
        self.assertRegex(
            page, r'<input type="checkbox" id="lp_marketing" name="marketing" value="1" class="form-check-input"/>'
        )

    @mute_logger("odoo.http")
    def test_post_without_csrf_token_is_refused(self):
        response = self._post(self._form(), token=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._count(), (0, 0))
        response = self.url_open(JOIN_URL, data=dict(self._form(), csrf_token="forged"), allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._count(), (0, 0))

    def test_honeypot_refuses_silently(self):
        response = self._post(self._form(website_homepage="https://spam.example.com"))
        self.assertEqual(response.status_code, 400)
        self.assertIn("could not be processed", response.text)
        self.assertEqual(self._count(), (0, 0))

    def _post_as_new_visitor(self, data):
        """A submission from another phone: a browser session of its own, the same IP address."""
        self.opener.cookies.clear()
        return self._post(data)

    @freeze_time(WINDOW_START, tick=True)
    def test_enrollment_drive_over_the_shop_wifi_goes_through(self):
        """Twenty customers joining at the counter in ten minutes, each on their phone, all over
        the shop's Wi-Fi (one IP address)."""
        for i in range(20):
            response = self._post_as_new_visitor(self._form(email=f"drive{i}@example.com"))
            self.assertEqual(response.status_code, 303, f"customer {i + 1}: {response.text[:300]}")
        self.assertEqual(
            self.env["loyalty_plus.card"].search_count([("partner_id.email", "=like", "drive%@example.com")]), 20
        )

    @freeze_time(WINDOW_START, tick=True)
    def test_script_posting_hundreds_is_stopped(self):
        statuses = [self._post_as_new_visitor(self._form(email=f"bot{i}@example.com")).status_code for i in range(150)]
        self.assertEqual(statuses[:60], [303] * 60, "the cap per address is loose enough for a shop")
        self.assertEqual(set(statuses[60:]), {429}, "everything after it is refused")
        refused = self._post_as_new_visitor(self._form())
        self.assertEqual(refused.status_code, 429)
        self.assertIn("Too many enrollment attempts", refused.text)
        self.assertTrue(int(refused.headers["Retry-After"]) > 0)
        self.assertEqual(self._count(), (0, 0))
        self.assertEqual(
            self.env["loyalty_plus.card"].search_count([("partner_id.email", "=like", "bot%@example.com")]), 60
        )

    @freeze_time(WINDOW_START, tick=True)
    def test_one_email_or_one_device_is_stopped_early(self):
        for _attempt in range(3):
            self.assertEqual(self._post_as_new_visitor(self._form()).status_code, 303)
        self.assertEqual(self._post_as_new_visitor(self._form()).status_code, 429, "4th time the same email")
        # one browser session posting many addresses: a script that keeps its cookie
        self.opener.cookies.clear()
        statuses = [self._post(self._form(email=f"device{i}@example.com")).status_code for i in range(12)]
        self.assertEqual(statuses, [303] * 10 + [429] * 2)

    @freeze_time(WINDOW_START, tick=True)
    def test_enrollment_limits_are_settings(self):
        self.env["ir.config_parameter"].sudo().set_param("loyalty_plus.rate_limit.web_enroll_ip", 2)
        self.assertEqual(self._post_as_new_visitor(self._form(email="a@example.com")).status_code, 303)
        self.assertEqual(self._post_as_new_visitor(self._form(email="b@example.com")).status_code, 303)
        self.assertEqual(self._post_as_new_visitor(self._form(email="c@example.com")).status_code, 429)

    def test_invalid_inputs_show_their_message_and_create_nothing(self):
        future = (date.today() + timedelta(days=3)).isoformat()
        cases = {
            "first_name": ({"first_name": ""}, "Enter your first name."),
            "last_name": ({"last_name": "  "}, "Enter your last name."),
            "email": ({"email": "nora.at.example.com"}, "enter one like name@example.com."),
            "phone": ({"phone": "call me"}, "Enter a phone number with at least 6 digits"),
            "birthday": ({"birthday": future}, "The birthday must be a real date in the past"),
            "lang": ({"lang": "xx_XX"}, "Choose a language from the list."),
            "terms": ({"terms": None}, "Accept the program terms to join."),
        }
        for field, (override, message) in cases.items():
            with self.subTest(field=field):
                response = self._post(self._form(**override))
                self.assertEqual(response.status_code, 400)
                self.assertIn('role="alert"', response.text)
                self.assertIn(message, response.text)
                self.assertIn(f'id="lp_{field}_error"', response.text)
                self.assertRegex(
                    response.text,
                    rf'aria-invalid="true"[^>]*aria-describedby="lp_{field}_error"|'
                    rf'id="lp_{field}"[^>]*aria-invalid="true"',
                )
                self.assertEqual(self._count(), (0, 0))
        response = self._post(self._form(birthday="1800-01-01"))
        self.assertIn("age 6 to 120", response.text)
        self.assertEqual(self._count(), (0, 0))

    def test_control_characters_are_refused_next_to_their_field(self):
        cases = {
            "first_name": "Au\x00dit",
            "last_name": "Te\x00ster",
            "email": "nul\x003@example.com",
            "phone": "+352 621\x00 555 111",
            "birthday": "1990-04-12\x00",
            "lang": "en_US\x00",
        }
        for field, value in cases.items():
            with self.subTest(field=field):
                response = self._post(self._form(**{field: value}))
                self.assertEqual(response.status_code, 400)
                self.assertIn("contained invisible control characters", response.text)
                self.assertIn(f'id="lp_{field}_error"', response.text)
                self.assertNotIn("\x00", response.text)
                self.assertEqual(self._count(), (0, 0))
                self.assertEqual(self._count("nul3@example.com"), (0, 0))
        # not only NUL: an escape sequence or a line break in a name is refused the same way
        for name in ("Nora\x1b", "No\nra", "Nora\x7f", "No\x85ra"):
            with self.subTest(first_name=name):
                response = self._post(self._form(first_name=name))
                self.assertEqual(response.status_code, 400)
                self.assertIn('id="lp_first_name_error"', response.text)
                self.assertIn('value="Nora"', response.text, "the value is shown back without them")
        self.assertEqual(self._count(), (0, 0))

    def test_malformed_link_name_is_not_found(self):
        for url in (
            "/loyalty/%00/join",
            "/loyalty/web-bakery%00/join",
            "/loyalty/a%00b/terms",
            "/loyalty/a%00b/welcome",
            "/loyalty/Web-Bakery/join",
        ):
            with self.subTest(url=url):
                response = self.url_open(url, allow_redirects=False)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("\x00", response.text)
        self.assertIn("This enrollment link does not exist", self.url_open("/loyalty/a%00b/join").text)

    def test_unknown_merchant_foreign_shop_and_closed_enrollment(self):
        self.assertEqual(self.url_open("/loyalty/no-such-bakery/join").status_code, 404)
        other = self.env["res.company"].create({"name": "Other merchant"})
        self.assertEqual(self.url_open(f"{JOIN_URL}?shop={other.id}").status_code, 404)
        self.assertEqual(self.url_open(f"{JOIN_URL}?shop=abc").status_code, 404)
        self.bakery.loyalty_plus_self_enrollment = False
        self.assertEqual(self.url_open(JOIN_URL).status_code, 404)

    def test_existing_member_cross_location_reveals_nothing(self):
        self.env["loyalty_plus.card"].sudo()._enroll(self.portal_lea.partner_id, self.bakery)
        response = self._post(self._form(email="LEA.portal@example.com", first_name="Someone", last_name="Else"))
        self.assertEqual(response.status_code, 303)
        welcome = self.url_open("/loyalty/web-bakery/welcome").text
        self.assertIn("already a member", welcome)
        self.assertIn("welcome email you received when you joined", welcome)
        for shop in (self.bakery, self.branch_esch, self.branch_diff):
            self.assertIn(shop.name, welcome)
        self.assertNotIn(self.card_lea.card_number, welcome)
        self.assertNotIn(self.card_lea._get_formatted_number(), welcome)
        self.assertNotIn("Lea Portal", welcome)
        self.assertEqual(self._count("lea.portal@example.com"), (1, 1))
        self.assertEqual(self.portal_lea.partner_id.name, "Lea Portal", "the existing customer is not renamed")
        self.assertFalse(self.portal_lea.partner_id.phone, "nor given the visitor's phone number")

    def test_email_patterns_match_nobody(self):
        self.bakery.loyalty_plus_cross_location = False
        for email in ("%@%.%", "lea.portal@example.co_"):
            with self.subTest(email=email):
                response = self._post(self._form(email=email))
                if response.status_code == 303:
                    card = self.env["loyalty_plus.card"].search([], limit=1, order="id desc")
                    self.assertNotEqual(card.partner_id, self.portal_lea.partner_id)
                else:
                    self.assertEqual(response.status_code, 400)
        self.assertEqual(self._count("lea.portal@example.com"), (1, 1))

    def test_terms_link_from_cms_with_text_fallback(self):
        page = self.url_open(JOIN_URL).text
        self.assertIn('href="/loyalty/web-bakery/terms"', page)
        terms = self.url_open("/loyalty/web-bakery/terms")
        self.assertEqual(terms.status_code, 200)
        self.assertIn("Bakery terms fallback text.", terms.text)
        self.program.terms_page_id = self.env.ref("loyalty_plus_website.merchant_terms_page")
        self.program.privacy_page_id = self.env.ref("loyalty_plus_website.merchant_privacy_page")
        page = self.url_open(JOIN_URL).text
        self.assertIn('href="/loyalty-terms"', page)
        self.assertIn('href="/loyalty-privacy"', page)
        redirect = self.url_open("/loyalty/web-bakery/terms", allow_redirects=False)
        self.assertEqual(redirect.status_code, 303)
        self.assertTrue(redirect.headers["Location"].endswith("/loyalty-terms"))

    def test_every_input_is_labelled(self):
        page = self.url_open(JOIN_URL).text
        for field in ("first_name", "last_name", "email", "phone", "birthday", "lang", "terms", "marketing"):
            self.assertIn(f'for="lp_{field}"', page)
            self.assertIn(f'id="lp_{field}"', page)

    def test_failure_after_partner_creation_leaves_nothing(self):
        # fault injection: the card step refuses after the customer was created in the same request
        Card = type(self.env["loyalty_plus.card"])
        original = Card._enroll

        def enroll_then_refuse(card_self, partner, shop, program=None):
            original(card_self, partner, shop, program)
            raise UserError(card_self.env._("The till is closed."))

        with patch.object(Card, "_enroll", enroll_then_refuse):
            response = self._post(self._form())
        self.assertEqual(response.status_code, 400)
        self.assertIn("The till is closed.", response.text)
        self.assertIn('role="alert"', response.text)
        self.assertEqual(self._count(), (0, 0))
