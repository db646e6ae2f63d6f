import html
import re

from odoo.fields import Command
from odoo.tests import tagged

from .common import LoyaltyPlusWebsiteCase

TERMS_URL = "/loyalty/web-bakery/terms"


@tagged("post_install", "-at_install")
class TestProgramTerms(LoyaltyPlusWebsiteCase):
    """The program's terms say what its settings do (stamps, points, expiry, welcome bonus), in the
    visitor's language, and become a page of the merchant's website the merchant can edit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        langs = ("fr_FR", "de_DE", "lb_LU")
        for code in langs:
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search(
            [("name", "in", ["loyalty_plus", "loyalty_plus_website"])]
        )._update_translations(list(langs))
        cls.website = cls.env["website"].get_current_website()
        cls.website.language_ids = [Command.set(cls.env["res.lang"].search([("code", "in", ("en_US", *langs))]).ids)]
        cls.program.write({"points_expiration_days": 365, "stamps_reward_description": "a free pastry"})
        cls.program.with_context(lang="fr_FR").stamps_reward_description = "une viennoiserie offerte"

    def _text(self, url):
        self.opener.cookies.clear()  # the language is the address's, not the one of the last page seen
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, response.text[:300])
        return html.unescape(response.text)

    def test_terms_page_says_the_program_facts(self):
        text = self._text(TERMS_URL)
        self.assertIn("With 5 stamps, you receive: a free pastry.", text)
        self.assertIn("Each euro spent earns 10 points.", text)
        self.assertIn("you receive a welcome bonus of 20 points.", text)
        self.assertIn("Points expire after 12 months without a purchase", text)
        self.assertIn("from a balance of 50 points", text)
        self.assertIn("Silver from 500 points", text)
        self.assertIn("Your card is valid in all our shops.", text)
        self.assertIn("Bakery terms fallback text.", text, "the merchant's own text follows the facts")
        # the facts follow the program
        self.program.write({"points_expiration_days": 0, "stamps_target": 8, "welcome_bonus_points": 0})
        text = self._text(TERMS_URL)
        self.assertIn("With 8 stamps", text)
        self.assertIn("Points do not expire.", text)
        self.assertNotIn("welcome bonus", text)

    def test_terms_in_four_languages(self):
        expected = {
            "fr": ("Avec 5 tampons, vous recevez : une viennoiserie offerte.", "12 mois"),
            "de": ("Mit 5 Stempeln erhalten Sie:", "12 Monaten"),
            "lb": ("Mat 5 Stempelen kritt Dir:", "12 Méint"),
        }
        for prefix, phrases in expected.items():
            with self.subTest(lang=prefix):
                text = self._text(f"/{prefix}{TERMS_URL}")
                for phrase in phrases:
                    self.assertIn(phrase, text)

    def test_generated_page_is_a_website_page_in_every_language(self):
        self.website.company_id = self.bakery
        action = self.program.action_generate_terms_page()
        page = self.program.terms_page_id
        self.assertTrue(page.is_published)
        self.assertEqual(page.website_id, self.website)
        self.assertEqual(action["url"], page.url)
        self.assertEqual(self.program._get_terms_url(), page.url)
        # a page of the website builder: static content in an editable structure, no code
        arch = page.view_id.with_context(lang=None).arch
        self.assertIn('id="wrap" class="oe_structure', arch)
        self.assertNotIn("t-out", arch)
        self.assertIn("With 5 stamps, you receive: a free pastry.", html.unescape(self._text(page.url)))
        self.assertIn("Avec 5 tampons, vous recevez : une viennoiserie offerte.", self._text(f"/fr{page.url}"))
        self.assertIn("12 Monaten", self._text(f"/de{page.url}"))
        self.assertIn("12 Méint", self._text(f"/lb{page.url}"))
        # the merchant's edit in the builder stays until the page is generated again
        view = page.view_id
        view.with_context(lang=None).arch = view.with_context(lang=None).arch.replace(
            "Joining is free", "Joining is free of charge"
        )
        self.assertIn("Joining is free of charge", self._text(page.url))
        self.program.stamps_target = 7
        self.program.action_generate_terms_page()
        self.assertEqual(self.program.terms_page_id, page, "the same page, written again")
        text = self._text(page.url)
        self.assertIn("With 7 stamps", text)
        self.assertNotIn("free of charge", text)
        self.assertIn("Avec 7 tampons", self._text(f"/fr{page.url}"))

    def test_one_of_a_kind_is_singular_in_every_language(self):
        """A program giving 1 point per euro, 1 welcome point... says "1 point", never "1 points"."""
        self.program.write(
            {
                "points_per_euro": 1,
                "welcome_bonus_points": 1,
                "birthday_bonus_points": 1,
                "minimum_redemption_points": 1,
                "stamps_target": 1,
                "max_stamps_per_day": 1,
                "points_expiration_days": 30,
            }
        )
        self.silver.threshold_points = 1
        plural = re.compile(r"\b1 (points|stamps|months|days|Punkten|Punkte|Stempeln|Stempelen|tampons|Méint|Deeg)\b")
        expected = {
            "": (
                ("1 stamp:", "<strong>1</strong> welcome point when you join", "1 point for each euro you spend"),
                (
                    "a welcome bonus of 1 point.",
                    "With 1 stamp, you receive: a free pastry.",
                    "At most 1 stamp per card and per day.",
                    "from a balance of 1 point.",
                    "On your birthday, you receive 1 point.",
                    "Points expire after 1 month without a purchase",
                    "Silver from 1 point",
                ),
            ),
            "/fr": (
                ("1 tampon :", "1 point pour chaque euro dépensé"),
                ("un bonus de bienvenue de 1 point.", "Avec 1 tampon, vous recevez : une viennoiserie offerte."),
            ),
            "/de": (
                ("1 Stempel:", "1 Punkt für jeden ausgegebenen Euro"),
                ("Willkommensbonus von 1 Punkt.", "Mit 1 Stempel erhalten Sie:"),
            ),
            "/lb": (
                ("1 Stempel:", "1 Punkt fir all Euro"),
                ("Wëllkommensbonus vun 1 Punkt.", "Mat 1 Stempel kritt Dir:"),
            ),
        }
        for prefix, (join_phrases, terms_phrases) in expected.items():
            with self.subTest(lang=prefix or "en"):
                join = " ".join(self._text(f"{prefix}/loyalty/web-bakery/join").split())
                terms = " ".join(self._text(f"{prefix}{TERMS_URL}").split())
                for phrase in join_phrases:
                    self.assertIn(phrase, join)
                for phrase in terms_phrases:
                    self.assertIn(phrase, terms)
                self.assertNotRegex(join + terms, plural)

    def test_a_fractional_rate_in_each_language_notation(self):
        """Half a point per euro reads "0.5" in English and "0,5" in French, German and Luxembourgish."""
        self.program.points_per_euro = 0.5
        for prefix, rate in (("", "0.5 points"), ("/fr", "0,5 points"), ("/de", "0,5 Punkte"), ("/lb", "0,5 Punkte")):
            with self.subTest(lang=prefix or "en"):
                join = " ".join(self._text(f"{prefix}/loyalty/web-bakery/join").split())
                self.assertIn(rate, join)
                self.assertNotIn("0.5" if prefix else "0,5", join)
