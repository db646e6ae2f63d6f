from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestLoyaltyPlusPosLookups(LoyaltyPlusPosCommon):
    """A member found by any usual form of their number, voucher codes typed as they come,
    another member's voucher refused, and the ledger rows of a till sale."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop.country_id = cls.env.ref("base.lu")
        cls.lea.phone = "+352661781848"
        cls.main_pos_config.with_user(cls.pos_user).open_ui()
        # a code the customer brings back, issued to Rich's card
        cls.rich_voucher = (
            cls.env["loyalty_plus.redemption"]
            .sudo()
            .create(
                {
                    "code": "CAKE-2345",
                    "card_id": cls.rich_card.id,
                    "company_id": cls.shop.id,
                    "reward_id": cls.voucher_reward.id,
                    "description": cls.voucher_reward.name,
                }
            )
        )

    def test_search_finds_a_member_by_any_usual_form_of_the_number(self):
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        for query in ("661781848", "661 781 848", "+352 661 781 848", "00352661781848"):
            with self.subTest(query=query):
                [found] = Card.lp_search(query, self.main_pos_config.id)
                self.assertEqual(found["id"], self.card.id)

    def test_enrollment_at_the_till_stores_the_number_in_e164(self):
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        summary = Card.lp_enroll(self.main_pos_config.id, "Nina Hoffmann", "nina@example.com", phone="691 222 333")
        self.assertEqual(self.env["loyalty_plus.card"].browse(summary["id"]).partner_id.phone, "+352691222333")

    def test_voucher_code_typed_as_it_comes_and_never_on_another_member_order(self):
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        config = self.main_pos_config.id
        for typed in ("cake2345", "Cake 2345", " CAKE-2345 "):
            with self.subTest(typed=typed):
                self.assertEqual(PosOrder.lp_read_voucher(config, typed)["code"], "CAKE-2345")
                self.assertEqual(PosOrder.lp_read_voucher(config, typed, card_id=self.rich_card.id)["kind"], "amount")
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            PosOrder.lp_read_voucher(config, "cake2345", card_id=self.card.id)
        self.assertEqual(caught.exception.code, "voucher_of_other_member")
        # the card put on the order after the code: refused before payment all the same
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            PosOrder.lp_check_redemptions(config, self.card.id, [], voucher_codes=["CAKE-2345"])
        self.assertEqual(caught.exception.code, "voucher_of_other_member")
        self.assertEqual(
            PosOrder.lp_check_redemptions(config, self.rich_card.id, [], voucher_codes=["CAKE-2345"])["card"]["id"],
            self.rich_card.id,
        )

    def test_ledger_rows_of_a_sale_link_its_order_and_who_rang_it(self):
        data = self._order([self._line()], card=self.card)
        order = self._sync(data)
        [row] = order.lp_transaction_ids
        self.assertEqual((row.transaction_type, row.pos_order_id), ("points_earned", order))
        self.assertEqual((row.user_id, row.pos_cashier), (self.pos_user, self.pos_user.name))
        self.assertEqual(order.lp_transaction_count, 1)
        self.assertEqual(order.action_lp_view_transactions()["domain"], [("pos_order_id", "=", order.id)])
        # the ledger's views show the order and the cashier; the order's form its ledger
        list_arch = self.env["loyalty_plus.transaction"].get_view(view_type="list")["arch"]
        self.assertIn('name="pos_order_id"', list_arch)
        self.assertIn('name="pos_cashier"', list_arch)
        self.assertIn('name="action_lp_view_transactions"', self.env["pos.order"].get_view(view_type="form")["arch"])
        self.assertIn('name="pos_order_id"', self.env["loyalty_plus.card"].get_view(view_type="form")["arch"])

    def test_ledger_rows_name_the_employee_when_the_order_has_one(self):
        """pos_hr names the employee who rang the sale on the order (``cashier``): the ledger
        keeps that name. Without pos_hr installed, the order's user stands for the cashier."""
        order = self._sync(self._order([self._line()], card=self.card))
        values = order._lp_get_cashier_values()
        if "cashier" in order._fields:
            self.assertEqual(values["pos_cashier"], order.cashier)
        else:
            self.assertEqual(values, {"user_id": self.pos_user.id, "pos_cashier": self.pos_user.name})

    @mute_logger("odoo.http")  # the refusal of another member's voucher
    def test_forgiving_lookups_at_the_till(self):
        self.env["loyalty_plus.reward"].create(
            {
                "name": "Big treat",
                "program_id": self.program.id,
                "points_cost": 100,
                "reward_kind": "amount",
                "discount_amount": 3.0,
            }
        )
        self.start_pos_tour("loyalty_plus_pos_forgiving_lookups")
        self.assertEqual(self.rich_voucher.state, "used")
        order = self.env["pos.order"].search([("lines.lp_voucher_code", "=", "CAKE-2345")])
        self.assertEqual(order.amount_total, 12)
        self.assertEqual(order.lp_points_redeemed, 100)
        self.assertEqual(order.lp_transaction_ids.mapped("pos_cashier"), [self.pos_user.name] * 2)
