from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LEA_CARD, LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestLoyaltyPlusPos(LoyaltyPlusPosCommon):
    """Server sync and the cashier's flows in the browser, on one POS set-up (it is slow to build)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_pos_config.with_user(cls.pos_user).open_ui()

    def _ledger(self, card, **domain):
        return (
            self.env["loyalty_plus.transaction"]
            .sudo()
            .search([("card_id", "=", card.id), *[(k, "=", v) for k, v in domain.items()]])
        )

    def test_order_synced_three_times_earns_once(self):
        data = self._order([self._line(qty=2)], card=self.card)
        for _attempt in range(3):
            order = self._sync(data)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
        earned = self._ledger(self.card, transaction_type="points_earned")
        self.assertEqual(len(earned), 1)
        self.assertEqual(earned.points_delta, 40)
        self.assertEqual(earned.pos_order_id, order)
        self.assertEqual(earned.order_ref, order.uuid)
        self.assertEqual((order.lp_points_earned, order.lp_points_balance), (40, 40))
        self.assertEqual(self.card.points_balance, 40)

    def test_points_come_from_the_server_not_the_browser(self):
        data = self._order([self._line()], card=self.card)
        data.update(lp_points_earned=5000, lp_points_balance=5000)
        order = self._sync(data)
        self.assertEqual(order.lp_points_earned, 20)
        self.assertEqual(self.card.points_balance, 20)

    def test_two_tills_race_on_one_card(self):
        """Both tills add the reward while the card has 130 points for two 50-point rewards plus
        one more: the last one checked before payment is refused, and a till that syncs anyway
        (offline) keeps its sale but not the reward; the balance never goes negative."""
        self.rich_card._apply_ledger("points_adjusted", points=-50, shop=self.shop, note="t", admin=self.env.user)
        self.assertEqual(self.rich_card.points_balance, 80)
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        till_a = self._order([self._line(), self._reward_line(self.rich_card)], card=self.rich_card)
        till_b = self._order([self._line(), self._reward_line(self.rich_card)], card=self.rich_card)
        config = self.main_pos_config.id
        for _till in (till_a, till_b):
            check = PosOrder.lp_check_redemptions(config, self.rich_card.id, [self.reward.id])
            self.assertTrue(check["ok"])
        order_a = self._sync(till_a)
        self.assertEqual(order_a.lp_points_redeemed, 50)
        check = PosOrder.lp_check_redemptions(config, self.rich_card.id, [self.reward.id])
        self.assertFalse(check["ok"])
        self.assertIn("now has 48 points", check["message"])
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
            order_b = self._sync(till_b)
        self.assertEqual(order_b.state, "paid")
        self.assertFalse(order_b.lines.filtered("lp_reward_id").lp_transaction_id)
        self.assertIn("Not enough points", order_b.lp_message)
        self.assertEqual(len(self._ledger(self.rich_card, transaction_type="points_redeemed")), 1)
        # 80 - 50 + 18 (order A) + 18 (order B)
        self.assertEqual(self.rich_card.points_balance, 66)
        # replaying order A redeems nothing more
        self._sync(till_a)
        self.assertEqual(len(self._ledger(self.rich_card, transaction_type="points_redeemed")), 1)

    def test_partial_refund_voids_proportionally_and_returns_reward_points(self):
        data = self._order([self._line(qty=2), self._reward_line(self.rich_card)], card=self.rich_card)
        order = self._sync(data)
        self.assertEqual((order.lp_points_redeemed, order.lp_points_earned), (50, 38))
        self.assertEqual(self.rich_card.points_balance, 130 - 50 + 38)
        bread_line = order.lines.filtered(lambda line: not line.lp_reward_id)
        reward_line = order.lines.filtered("lp_reward_id")
        refund = self._order(
            [
                self._line(qty=-1, refunded_orderline_id=bread_line.id),
                self._reward_line(self.rich_card, qty=-1, refunded_orderline_id=reward_line.id),
            ],
            partner=self.rich,
        )
        refund["lp_card_id"] = False
        refund_order = self._sync(refund)
        for _attempt in range(2):
            self._sync(refund)
        voided = self._ledger(self.rich_card, transaction_type="points_voided")
        self.assertEqual(len(voided), 1)
        # 20 of the 38 euros paid come back: 20/38 of 38 points
        self.assertEqual(voided.points_delta, -20)
        self.assertEqual(voided.pos_order_id, refund_order)
        refunded = self._ledger(self.rich_card, transaction_type="points_refunded")
        self.assertEqual(refunded.points_delta, 50)
        self.assertEqual(refund_order.lp_points_voided, 20 - 50)
        self.assertEqual(self.rich_card.points_balance, 130 - 50 + 38 - 20 + 50)

    def test_card_of_another_shop_follows_cross_location(self):
        branch = self.env["res.company"].create({"name": "LP Branch", "parent_id": self.shop.id})
        partner = self.env["res.partner"].create({"name": "Branch Member", "email": "branch@example.com"})
        self.shop.loyalty_plus_cross_location = False
        card = self.env["loyalty_plus.card"].create(
            {"partner_id": partner.id, "program_id": self.program.id, "shop_id": branch.id}
        )
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        with self.assertRaisesRegex(UserError, "valid only in LP Branch"):
            Card.pos_search(card.card_number, self.main_pos_config.id)
        self.shop.loyalty_plus_cross_location = True
        self.env["loyalty_plus.card"].invalidate_model(["cross_location"])
        self.env.cr.execute("UPDATE loyalty_plus_card SET cross_location = true WHERE id = %s", [card.id])
        self.env["loyalty_plus.card"].invalidate_model(["cross_location"])
        [found] = Card.pos_search(card.card_number, self.main_pos_config.id)
        self.assertEqual(found["id"], card.id)

    def test_search_by_name_email_phone_and_scan(self):
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        config = self.main_pos_config.id
        for query in (f"LPC{LEA_CARD}", LEA_CARD, "lea.member@example.com", "Lea Mem"):
            [found] = Card.pos_search(query, config)
            self.assertEqual(found["id"], self.card.id, query)
            self.assertEqual(found["partner_name"], "Lea Member")
        self.assertEqual(Card.pos_search("Nobody Here", config), [])
        self.assertEqual(Card.pos_card_for_partner(self.lea.id, config)["id"], self.card.id)

    def test_lean_boot_loads_no_card_and_no_pin_hash(self):
        session = self.main_pos_config.current_session_id.with_user(self.pos_user)
        data = session.load_data([])
        self.assertEqual(data["loyalty_plus.card"], [])
        self.assertEqual([p["id"] for p in data["loyalty_plus.program"]], self.program.ids)
        self.assertEqual([r["id"] for r in data["loyalty_plus.reward"]], self.reward.ids)
        self.assertEqual([t["id"] for t in data["loyalty_plus.tier"]], self.tier.ids)
        [staff] = data["loyalty_plus.staff_pin"]
        self.assertEqual(set(staff), {"id", "name", "program_id"})
        self.assertEqual(data["pos.config"][0]["_lp_discount_product_id"], self.discount_product.id)

    def test_barcode_rule_keeps_odoo_prefixes(self):
        nomenclature = self.env.ref("barcodes.default_barcode_nomenclature")
        self.assertEqual(nomenclature.parse_barcode(f"LPC{LEA_CARD}")["type"], "loyalty_plus_card")
        self.assertEqual(nomenclature.parse_barcode(LEA_CARD)["type"], "loyalty_plus_card")
        self.assertNotEqual(nomenclature.parse_barcode("0420000000004")["type"], "loyalty_plus_card")
        self.assertNotEqual(nomenclature.parse_barcode("041234567890")["type"], "loyalty_plus_card")
        self.assertNotEqual(nomenclature.parse_barcode("0431234567890")["type"], "loyalty_plus_card")

    # ------------------------------------------------------------------
    # Browser tours
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")  # the refusals the tour provokes
    def test_scan_and_stamp_with_pin_then_cooldown(self):
        self.start_pos_tour("loyalty_plus_pos_scan_stamp")
        self.assertEqual(self.card.stamp_count, 1)
        self.assertEqual(self._ledger(self.card, transaction_type="stamp_earned").staff_pin_id, self.staff)

    @mute_logger("odoo.http")
    def test_wrong_pin_until_locked(self):
        self.start_pos_tour("loyalty_plus_pos_pin_lock")
        self.assertTrue(self.staff.locked_until)
        self.assertEqual(self.card.stamp_count, 0)

    def test_search_earn_and_refund(self):
        self.start_pos_tour("loyalty_plus_pos_search_earn_refund")
        self.assertEqual(self._ledger(self.card, transaction_type="points_earned").points_delta, 20)
        self.assertEqual(self._ledger(self.card, transaction_type="points_voided").points_delta, -20)
        self.assertEqual(self.card.points_balance, 0)

    def test_redeem_then_refused_when_spent_elsewhere(self):
        self.start_pos_tour("loyalty_plus_pos_redeem")
        redeemed = self._ledger(self.rich_card, transaction_type="points_redeemed")
        # one on the paid order, one by "another till"; the refused order was never paid
        self.assertEqual(len(redeemed), 2)
        self.assertEqual(len(redeemed.filtered("pos_order_id")), 1)
        self.assertEqual(self.rich_card.points_balance, 48)

    def test_enroll_at_the_till(self):
        self.start_pos_tour("loyalty_plus_pos_enroll")
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "nora@example.com")])
        self.assertEqual(card.partner_id.name, "Nora Newcomer")
        self.assertTrue(card.marketing_consent)
        self.assertEqual(card.shop_id, self.shop)
