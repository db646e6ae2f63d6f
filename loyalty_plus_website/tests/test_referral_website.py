import lxml.html

from odoo.fields import Command
from odoo.tests import tagged

from .common import LoyaltyPlusWebsiteCase

JOIN_URL = "/loyalty/web-bakery/join"


@tagged("post_install", "-at_install")
class TestReferralWebsite(LoyaltyPlusWebsiteCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"referral_bonus_points": 50, "referred_bonus_points": 25})

    def _join(self, ref, email="nora.referred@example.com", url=JOIN_URL):
        """The join page opened from an invitation link, then sent: ``(page, response, card)``."""
        page = self.url_open(f"{url}{'&' if '?' in url else '?'}ref={ref}")
        self.assertEqual(page.status_code, 200, page.text[:500])
        data = {
            "first_name": "Nora",
            "last_name": "Referred",
            "email": email,
            "phone": "+352 621 555 999",
            "lang": "en_US",
            "terms": "1",
            "csrf_token": self.get_csrf_token(url),
            "ref": ref,
        }
        response = self.url_open(url, data=data, allow_redirects=False)
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", email)])
        return page, response, card

    def test_referral_link_is_the_merchant_join_page(self):
        url = self.card_lea.referral_url
        self.assertEqual(url, f"{self.card_lea.get_base_url()}{JOIN_URL}?ref={self.card_lea.referral_code}")
        # a member of a branch invites to their branch
        self.assertIn(f"{JOIN_URL}?shop={self.branch_esch.id}&ref=", self.card_tom.referral_url)

    def test_join_with_a_code_records_the_referral(self):
        code = self.card_lea.referral_code
        page, response, card = self._join(code)
        self.assertIn(f'name="ref" value="{code}"', page.text, "the code travels with the form")
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(len(card), 1)
        self.assertEqual(card.referred_by_id, self.card_lea)
        referral = self.env["loyalty_plus.referral"].search([("referred_card_id", "=", card.id)])
        self.assertEqual(referral.state, "pending")
        # the first purchase pays both
        card._earn_order(
            [{"product_id": False, "qty": 1, "price_incl": 10, "price_excl": 10}], self.bakery, order_ref="WEB-REF-1"
        )
        self.assertEqual(referral.state, "rewarded")
        bonus = self.card_lea.transaction_ids.filtered(lambda row: row.transaction_type == "referral_bonus")
        self.assertEqual(bonus.points_delta, 50)

    def test_join_with_an_unknown_code_still_enrolls(self):
        page, response, card = self._join("NOPE2345")
        self.assertIn('name="ref"', page.text)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(len(card), 1, "the customer is never lost to a wrong code")
        self.assertFalse(card.referred_by_id)

    def test_join_without_a_code_has_no_hidden_field(self):
        self.assertNotIn('name="ref"', self.url_open(JOIN_URL).text)

    def _invitation_banner(self, ref, prefix=""):
        """The join page opened with ``ref``: the invitation banner's text ("" when none)."""
        page = self.url_open(f"{prefix}{JOIN_URL}?ref={ref}")
        self.assertEqual(page.status_code, 200, page.text[:500])
        banner = lxml.html.fromstring(page.content).xpath("//section[hasclass('o_loyalty_plus_invitation')]")
        return " ".join(banner[0].text_content().split()) if banner else ""

    def test_join_page_names_who_invited(self):
        referrals_before = self.env["loyalty_plus.referral"].search_count([])
        write_date = self.card_lea.write_date
        # as a friend may type it from a message: lower case, with a dash
        code = self.card_lea.referral_code
        banner = self._invitation_banner(f"{code[:4].lower()}-{code[4:]}")
        self.assertEqual(banner, "Lea invited you Join now and get 25 points with your first purchase.")
        # the page is public: the first name only
        page = self.url_open(f"{JOIN_URL}?ref={code}").text
        self.assertNotIn("Lea Portal", page)
        self.assertNotIn("lea.portal@example.com", page)
        # a read: opening the link records nothing
        self.env.invalidate_all()
        self.assertEqual(self.env["loyalty_plus.referral"].search_count([]), referrals_before)
        self.assertEqual(self.card_lea.write_date, write_date)

    def test_join_page_names_who_invited_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        website = self.env["website"].get_current_website()
        website.language_ids = [Command.link(self.env.ref("base.lang_fr").id)]
        self.env["ir.module.module"].search(
            [("name", "in", ["loyalty_plus", "loyalty_plus_website"])]
        )._update_translations(["fr_FR"])
        self.program.referred_bonus_stamps = 1
        banner = self._invitation_banner(self.card_tom.referral_code, prefix="/fr")
        self.assertEqual(
            banner, "Tom vous invite Inscrivez-vous et recevez 25 points et 1 tampon lors de votre premier achat."
        )

    def test_join_page_without_invitation_for_unknown_foreign_or_archived_codes(self):
        self.assertEqual(self._invitation_banner("NOPE2345"), "")
        other = self.env["res.company"].create({"name": "Other Shop", "loyalty_plus_slug": "other-shop"})
        other_program = self.env["loyalty_plus.program"].create(
            {"name": "Other Rewards", "company_id": other.id, "program_type": "points", "points_per_euro": 1}
        )
        other_card = self.env["loyalty_plus.card"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "Otto Other"}).id,
                "program_id": other_program.id,
                "shop_id": other.id,
            }
        )
        self.assertEqual(self._invitation_banner(other_card.referral_code), "", "another merchant's member")
        self.card_tom.action_archive()
        self.assertEqual(self._invitation_banner(self.card_tom.referral_code), "", "a closed card")

    def test_join_page_promises_nothing_the_program_does_not_give(self):
        self.program.write({"referred_bonus_points": 0})
        self.assertEqual(self._invitation_banner(self.card_lea.referral_code), "Lea invited you")
        # the friend's bonus in points, in a program that has none
        self.program.write({"referred_bonus_points": 25, "program_type": "stamps"})
        self.assertEqual(self._invitation_banner(self.card_lea.referral_code), "Lea invited you")

    def test_invitation_banner_is_accessible(self):
        self.install_axe()
        # the tour runs axe-core on the form, the banner above it included
        self.start_tour(
            f"{JOIN_URL}?shop={self.branch_esch.id}&ref={self.card_lea.referral_code}",
            "loyalty_plus_website_enroll_new",
        )
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "marie.hoffmann@example.com")])
        self.assertEqual(card.referred_by_id, self.card_lea)

    def test_portal_card_page_shows_the_invitation(self):
        self.authenticate("lp_web_lea", "lp_web_lea")
        text = self.url_open(f"/my/loyalty/{self.card_lea.id}").text
        self.assertIn("o_loyalty_plus_referral", text)
        self.assertIn(self.card_lea.referral_code, text)
        self.assertIn(f'value="{self.card_lea.referral_url}"', text)
        self.assertIn("o_loyalty_plus_referral_copy", text)
        self.assertIn("you get 50 points and your friend gets 25 points", text)
        # a program without referral bonus offers no invitation
        self.program.write({"referral_bonus_points": 0, "referred_bonus_points": 0})
        text = self.url_open(f"/my/loyalty/{self.card_lea.id}").text
        self.assertNotIn("o_loyalty_plus_referral", text)

    def test_copy_button_copies_the_link(self):
        self.start_tour(f"/my/loyalty/{self.card_lea.id}", "loyalty_plus_website_referral_copy", login="lp_web_lea")
