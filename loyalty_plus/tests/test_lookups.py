"""Lookups that forgive: a phone number in any usual form, a voucher code however it is typed;
and the corrections of a stamp card, with a reason, like points."""

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestLookups(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the merchant is in Luxembourg: its customers' national numbers are Luxembourg numbers
        cls.bakery.country_id = cls.env.ref("base.lu")
        cls.program.write({"stamp_cooldown_minutes": 0, "max_stamps_per_day": 0})

    def _enroll(self, phone, email="ana@example.com"):
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier, self.branch_esch)
        return self.env["loyalty_plus.card"].browse(Card.enroll("Ana Costa", email, phone=phone)["id"])

    # phone numbers ------------------------------------------------------

    def test_enrollment_stores_the_phone_in_e164_of_the_merchant_country(self):
        # the branch has no country of its own: the merchant's numbering plan reads the number
        self.assertFalse(self.branch_esch.country_id)
        for phone, email, stored in (
            ("661 781 848", "ana@example.com", "+352661781848"),
            ("00352 661 781 849", "ben@example.com", "+352661781849"),
            ("+352 (661) 781-850", "cleo@example.com", "+352661781850"),
        ):
            with self.subTest(phone=phone):
                self.assertEqual(self._enroll(phone, email).partner_id.phone, stored)
        # a French mobile stays French
        self.assertEqual(self._enroll("+33 6 12 34 56 78", "dan@example.com").partner_id.phone, "+33612345678")

    def test_backend_search_finds_a_member_as_the_till_does(self):
        """A manager typing a national number or a grouped card number in the cards' search
        finds the member, as the till does ("Member" in the search view, many2one fields)."""
        card = self._enroll("+352 661 781 848")
        other = self._enroll("+352 621 000 111", email="zoe@example.com")
        grouped = " ".join(card.card_number[i : i + 4] for i in range(0, 12, 4))
        Card = self.as_user(self.env["loyalty_plus.card"], self.manager, self.bakery)
        for query in ("661 781 848", "661781848", "00352 661 781 848", grouped, "ana@example.com"):
            with self.subTest(query=query):
                self.assertEqual(Card.search([("display_name", "ilike", query)]), card)
                self.assertEqual([row[0] for row in Card.name_search(query)], card.ids)
        self.assertEqual(Card.search([("display_name", "ilike", "621 000 111")]), other)
        self.assertFalse(Card.search([("display_name", "ilike", "661 781 847")]))

    def test_enrollment_refuses_a_number_no_phone_has(self):
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier)
        for phone in ("0000000", "123456", "+352 123 456"):
            with self.subTest(phone=phone):
                refusal = self.refusal_of(lambda phone=phone: Card.enroll("Ana Costa", "ana@example.com", phone=phone))
                self.assertEqual((refusal.code, refusal.data["field"]), ("validation_error", "phone"))
                self.assertIn("is not a valid phone number", refusal.args[0])
        self.assertFalse(self.env["res.partner"].search([("email", "=", "ana@example.com")]))

    def test_member_errors_give_the_normalized_phone(self):
        Partner = self.env["res.partner"]
        values, errors = Partner._loyalty_plus_member_errors(
            "Ana Costa", "ana@example.com", phone="661 781 848", country=self.env.ref("base.lu")
        )
        self.assertEqual((values["phone"], errors), ("+352661781848", {}))
        values, errors = Partner._loyalty_plus_member_errors(
            "Ana Costa", "ana@example.com", phone="06 12 34 56 78", country=self.env.ref("base.fr")
        )
        self.assertEqual((values["phone"], errors), ("+33612345678", {}))

    def test_lookup_finds_a_member_by_any_usual_form_of_the_number(self):
        card = self._enroll("+352 661 781 848")
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier)
        for query in (
            "661781848",
            "661 781 848",
            "+352 661 781 848",
            "+352661781848",
            "00352661781848",
            "00352 661 781 848",
        ):
            with self.subTest(query=query):
                self.assertEqual(Card._get_by_query(query, self.bakery), card)
                self.assertEqual(Card.lookup(query, shop_id=self.branch_esch.id)["id"], card.id)
        # another number, a name or nothing like a number finds no one
        for query in ("661 781 847", "Ana Costa", "+352"):
            with self.subTest(query=query):
                self.assertEqual(
                    self.refusal_of(lambda q=query: Card._get_by_query(q, self.bakery)).code, "card_not_found"
                )

    def test_lookup_finds_members_recorded_before_normalization(self):
        # a customer whose number was typed in the back office, as it came
        partner = self.env["res.partner"].create(
            {"name": "Old Timer", "email": "old@example.com", "phone": "+352 691 000 003"}
        )
        card = self.env["loyalty_plus.card"]._enroll(partner, self.bakery)[0]
        Card = self.as_user(self.env["loyalty_plus.card"], self.cashier)
        for query in ("691000003", "691 000 003", "00352691000003"):
            with self.subTest(query=query):
                self.assertEqual(Card._get_by_query(query, self.bakery), card)

    def test_lookup_by_phone_reads_the_index(self):
        """A million customers: the number is compared as stored, on the indexed column (no
        function of it, no pattern), so that one index lookup finds it."""
        forms = self.env["res.partner"]._loyalty_plus_phone_forms("661 781 848", self.env.ref("base.lu"))
        self.assertEqual(forms, ["+352 661 781 848", "+352661781848", "661 781 848"])
        self.env.cr.execute(
            SQL(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                "res_partner",
                "res_partner__phone_index",
            )
        )
        self.assertRegex(self.env.cr.fetchone()[0], r"btree \(phone\) WHERE \(phone IS NOT NULL\)")
        query = (
            self.env["loyalty_plus.card"]
            .sudo()
            ._search([("company_id", "=", self.bakery.id), ("partner_id.phone", "in", forms)])
        )
        sql = self.env.cr.mogrify(*query.select()).decode()
        self.assertRegex(sql, r'"loyalty_plus_card__partner_id"\."phone" IN \(')
        self.assertNotRegex(sql, r"(?i)i?like|regexp|lower\(")

    # voucher codes ------------------------------------------------------

    def _voucher(self, card):
        card._apply_ledger({"transaction_type": "points_adjusted", "points_delta": 200, "note": "test"})
        return card._redeem_reward(self.reward, self.bakery)[1]

    def test_voucher_code_found_whatever_the_case_dashes_and_spaces(self):
        redemption = self._voucher(self.card)
        Redemption = self.env["loyalty_plus.redemption"]
        code = redemption.code
        plain = code.replace("-", "")
        for typed in (
            code,
            code.lower(),
            plain,
            plain.lower(),
            f" {plain[:4]} {plain[4:]} ",
            f"{plain[:2]}-{plain[2:]}",
        ):
            with self.subTest(typed=typed):
                self.assertEqual(Redemption._get_usable(typed, self.bakery), redemption)
        self.assertEqual(
            self.refusal_of(lambda: Redemption._get_usable("ABCD-EFG", self.bakery)).code, "voucher_not_found"
        )
        Redemption.consume(plain.lower(), used_ref="Order 1")
        self.assertEqual(redemption.state, "used")

    def test_voucher_of_another_member_is_refused_on_a_member_order(self):
        redemption = self._voucher(self.card)
        other = self.env["loyalty_plus.card"]._enroll(self.partner2, self.bakery)[0]
        Redemption = self.env["loyalty_plus.redemption"]
        refusal = self.refusal_of(lambda: Redemption._get_usable(redemption.code, self.bakery, card=other))
        self.assertEqual(refusal.code, "voucher_of_other_member")
        self.assertNotIn(self.partner.name, refusal.args[0], "the owner is not revealed")
        # its own member's order, or an order without a member: a voucher is honoured
        self.assertEqual(Redemption._get_usable(redemption.code, self.bakery, card=self.card), redemption)
        self.assertEqual(Redemption._get_usable(redemption.code, self.bakery), redemption)

    # stamps adjusted with a reason --------------------------------------

    def test_manager_adjusts_stamps_with_a_reason(self):
        card = self.as_user(self.card, self.manager)
        result = card.adjust_stamps(2, "  Stamp forgotten at the till  ")
        self.assertEqual(result["card"]["stamps"], 2)
        row = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertEqual(
            (row.transaction_type, row.stamps_delta, row.stamps_after, row.note, row.admin_user_id),
            ("stamp_adjusted", 2, 2, "Stamp forgotten at the till", self.manager),
        )
        card.adjust_stamps(-1, "Scanned twice")
        self.assertEqual(self.card.stamp_count, 1)
        self.assertEqual(self.card.total_stamps_earned, 2, "a stamp taken off is not a stamp never earned")
        self.assertLedgerMatches(self.card)
        for stamps, reason, code in (
            (-2, "Too many", "insufficient_stamps"),
            (0, "Nothing", "validation_error"),
            ("two", "Words", "validation_error"),
            (1, "   ", "validation_error"),
        ):
            with self.subTest(stamps=stamps, reason=reason):
                self.assertEqual(self.refusal_of(lambda s=stamps, r=reason: card.adjust_stamps(s, r)).code, code)
        self.assertEqual(self.card.stamp_count, 1)
        with self.assertRaises(AccessError):
            self.as_user(self.card, self.cashier).adjust_stamps(1, "A cashier's favour")

    def test_stamps_cannot_be_adjusted_on_a_points_program(self):
        self.program.program_type = "points"
        refusal = self.refusal_of(lambda: self.as_user(self.card, self.manager).adjust_stamps(1, "Goodwill"))
        self.assertEqual(refusal.code, "not_supported")

    def test_adjust_wizard_moves_stamps_and_points_with_one_reason(self):
        Wizard = self.env["loyalty_plus.card.adjust"].with_user(self.manager).with_company(self.bakery)
        wizard = Wizard.create({"card_id": self.card.id, "stamps": 1, "points": 30, "reason": "Complaint"})
        self.assertTrue(wizard.has_stamps and wizard.has_points)
        wizard.action_apply()
        rows = self.env["loyalty_plus.transaction"].search(
            [("card_id", "=", self.card.id), ("note", "=", "Complaint")], order="id"
        )
        self.assertEqual(rows.mapped("transaction_type"), ["stamp_adjusted", "points_adjusted"])
        self.assertEqual((self.card.stamp_count, self.card.points_balance), (1, 20 + 30))
        empty = Wizard.create({"card_id": self.card.id, "reason": "Nothing"})
        self.assertEqual(self.refusal_of(empty.action_apply).code, "validation_error")
        # a refusal of either movement leaves both as they were
        too_many = Wizard.create({"card_id": self.card.id, "stamps": 1, "points": -1000, "reason": "Wrong"})
        with self.assertRaises(LoyaltyPlusRefusal):
            too_many.action_apply()
        self.card.invalidate_recordset()
        self.assertEqual((self.card.stamp_count, self.card.points_balance), (1, 50))
