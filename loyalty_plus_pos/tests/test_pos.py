from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

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

    def test_demo_chart_keeps_the_merchant_currency(self):
        """The demo's generic chart of accounts is American: a Luxembourg bakery still counts in euros."""
        merchant = self.env["res.company"].create(
            {
                "name": "Chart Bakery",
                "currency_id": self.env.ref("base.EUR").id,
                "country_id": self.env.ref("base.lu").id,
            }
        )
        branch = self.env["res.company"].create(
            {"name": "Chart Bakery Esch", "parent_id": merchant.id, "country_id": self.env.ref("base.lu").id}
        )
        self.env["pos.config"]._lp_demo_chart(branch)
        for company in merchant | branch:
            self.assertEqual(company.chart_template, "generic_coa")
            self.assertEqual(company.currency_id, self.env.ref("base.EUR"))
            self.assertEqual(company.account_fiscal_country_id, self.env.ref("base.lu"))

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

    def test_order_below_the_minimum_purchase_earns_nothing_and_says_nothing(self):
        """The engine's minimum purchase decides; an order under it is no refusal worth a note."""
        self.program.minimum_purchase = 25
        small = self._sync(self._order([self._line()], card=self.card))
        self.assertEqual((small.lp_points_earned, small.lp_message), (0, False))
        self.assertFalse(self._ledger(self.card, transaction_type="points_earned"))
        large = self._sync(self._order([self._line(qty=2)], card=self.card))
        self.assertEqual((large.lp_points_earned, large.lp_message), (40, False))
        self.assertEqual(self.card.points_balance, 40)

    def test_two_tills_race_on_one_card(self):
        """Both tills add the reward while the card has 130 points for two 50-point rewards plus
        one more: the last one checked before payment is refused, and a till that syncs anyway
        (offline) keeps its sale but not the reward; the balance never goes negative."""
        self.rich_card._apply_ledger(
            {
                "transaction_type": "points_adjusted",
                "points_delta": -50,
                "shop_id": self.shop.id,
                "note": "t",
                "admin_user_id": self.env.user.id,
            }
        )
        self.assertEqual(self.rich_card.points_balance, 80)
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        till_a = self._order([self._line(), self._reward_line(self.rich_card)], card=self.rich_card)
        till_b = self._order([self._line(), self._reward_line(self.rich_card)], card=self.rich_card)
        config = self.main_pos_config.id
        for _till in (till_a, till_b):
            check = PosOrder.lp_check_redemptions(config, self.rich_card.id, [self.reward.id])
            self.assertEqual(check["card"]["points"], 80)
        order_a = self._sync(till_a)
        self.assertEqual(order_a.lp_points_redeemed, 50)
        with self.assertRaises(LoyaltyPlusRefusal) as refused:
            PosOrder.lp_check_redemptions(config, self.rich_card.id, [self.reward.id])
        self.assertEqual(refused.exception.code, "insufficient_points")
        self.assertIn("the card has 48", refused.exception.args[0])
        # the till shows the balance that refused
        self.assertEqual(refused.exception.data["card"]["points"], 48)
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
        # one of the two breads comes back: half the 38 points (the reward was paid on both)
        self.assertEqual(voided.points_delta, -19)
        self.assertEqual(voided.pos_order_id, refund_order)
        refunded = self._ledger(self.rich_card, transaction_type="points_refunded")
        self.assertEqual(refunded.points_delta, 50)
        self.assertEqual(refund_order.lp_points_voided, 19 - 50)
        self.assertEqual(self.rich_card.points_balance, 130 - 50 + 38 - 19 + 50)

    def test_card_of_another_shop_follows_cross_location(self):
        branch = self.env["res.company"].create({"name": "LP Branch", "parent_id": self.shop.id})
        partner = self.env["res.partner"].create({"name": "Branch Member", "email": "branch@example.com"})
        self.shop.loyalty_plus_cross_location = False
        card = self.env["loyalty_plus.card"].create(
            {"partner_id": partner.id, "program_id": self.program.id, "shop_id": branch.id}
        )
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        with self.assertRaisesRegex(UserError, "valid only in LP Branch"):
            Card.lp_search(card.card_number, self.main_pos_config.id)
        self.shop.loyalty_plus_cross_location = True
        self.env["loyalty_plus.card"].invalidate_model(["cross_location"])
        self.env.cr.execute("UPDATE loyalty_plus_card SET cross_location = true WHERE id = %s", [card.id])
        self.env["loyalty_plus.card"].invalidate_model(["cross_location"])
        [found] = Card.lp_search(card.card_number, self.main_pos_config.id)
        self.assertEqual(found["id"], card.id)

    def test_search_by_name_email_phone_and_scan(self):
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        config = self.main_pos_config.id
        for query in (f"LPC{LEA_CARD}", LEA_CARD, "lea.member@example.com", "Lea Mem"):
            [found] = Card.lp_search(query, config)
            self.assertEqual(found["id"], self.card.id, query)
            self.assertEqual(found["partner_name"], "Lea Member")
        self.assertEqual(Card.lp_search("Nobody Here", config), [])
        self.assertEqual(Card.lp_card_for_partner(self.lea.id, config)["id"], self.card.id)

    def test_lean_boot_loads_no_card_and_no_pin_hash(self):
        session = self.main_pos_config.current_session_id.with_user(self.pos_user)
        data = session.load_data([])
        self.assertEqual(data["loyalty_plus.card"], [])
        self.assertEqual([p["id"] for p in data["loyalty_plus.program"]], self.program.ids)
        self.assertEqual({r["id"] for r in data["loyalty_plus.reward"]}, set((self.reward | self.voucher_reward).ids))
        self.assertEqual([t["id"] for t in data["loyalty_plus.tier"]], self.tier.ids)
        [staff] = data["loyalty_plus.staff_pin"]
        self.assertEqual(set(staff), {"id", "name", "program_id"})
        self.assertEqual(data["pos.config"][0]["_lp_discount_product_id"], self.discount_product.id)
        # the stamp card's free item is loaded although the till does not sell it
        self.assertEqual(data["loyalty_plus.program"][0]["stamps_reward_product_id"], self.coffee.id)
        self.assertIn(self.coffee.id, [p["id"] for p in data["product.product"]])

    def test_program_form_offers_the_stamp_reward_product(self):
        arch = self.env["loyalty_plus.program"].get_view(view_type="form")["arch"]
        self.assertIn('name="stamps_reward_product_id"', arch)

    # ------------------------------------------------------------------
    # Vouchers: issued for later, brought back once
    # ------------------------------------------------------------------

    def test_voucher_reward_prints_a_code_used_once_later(self):
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        config = self.main_pos_config.id
        # a browser cannot bring its own code or ledger row
        forged = self._voucher_line(self.rich_card, lp_issued_code="FAKE-CODE", lp_transaction_id=1)
        data = self._order([self._line(), forged], card=self.rich_card)
        for _attempt in range(2):
            order = self._sync(data)
        line = order.lines.filtered("lp_reward_id")
        redemption = line.lp_redemption_id
        self.assertEqual(redemption.state, "issued")
        self.assertEqual(line.lp_issued_code, redemption.code)
        self.assertRegex(line.lp_issued_code, r"^[2-9A-Z]{4}-[2-9A-Z]{4}$")
        self.assertEqual(line.lp_transaction_id.points_delta, -30)
        self.assertEqual(len(self._ledger(self.rich_card, transaction_type="points_redeemed")), 1)
        self.assertEqual((order.lp_points_redeemed, order.lp_points_earned), (30, 20))
        self.assertEqual(self.rich_card.points_balance, 130 - 30 + 20)

        code = line.lp_issued_code
        voucher = PosOrder.lp_read_voucher(config, f" {code.lower()} ")
        self.assertEqual((voucher["kind"], voucher["amount"], voucher["description"]), ("amount", 5.0, "Cake voucher"))
        self.assertEqual(PosOrder.lp_check_redemptions(config, False, [], voucher_codes=[code]), {"card": False})
        # brought back on an order without a card
        use = self._order([self._line(), self._voucher_code_line(code)])
        for _attempt in range(2):
            used_order = self._sync(use)
        redemption.invalidate_recordset()
        self.assertEqual(redemption.state, "used")
        self.assertEqual(redemption.used_ref, used_order.pos_reference or used_order.name)
        self.assertEqual(used_order.lines.filtered("lp_voucher_code").lp_redemption_id, redemption)
        self.assertFalse(used_order.lp_message)
        # a second use: refused before payment, and noted if a till synced it anyway
        for check in (
            lambda: PosOrder.lp_check_redemptions(config, False, [], voucher_codes=[code]),
            lambda: PosOrder.lp_read_voucher(config, code),
        ):
            with self.assertRaisesRegex(LoyaltyPlusRefusal, "cannot be used: Used") as refused:
                check()
            self.assertEqual(refused.exception.code, "voucher_not_usable")
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
            again = self._sync(self._order([self._line(), self._voucher_code_line(code)]))
        self.assertEqual(again.state, "paid")
        self.assertIn(f"Voucher {code} not used", again.lp_message)
        self.assertFalse(again.lines.filtered("lp_voucher_code").lp_redemption_id)
        with self.assertRaisesRegex(LoyaltyPlusRefusal, "Unknown voucher code NOPE-CODE") as refused:
            PosOrder.lp_read_voucher(config, "nope-code")
        self.assertEqual(refused.exception.code, "voucher_not_found")
        # the order that used it is returned: the customer gets the code back, once
        voucher_line = used_order.lines.filtered("lp_voucher_code")
        refund = self._order(
            [
                self._line(-1, refunded_orderline_id=used_order.lines.filtered(lambda ln: not ln.lp_voucher_code).id),
                self._line(-1, -5.0, product_id=self.discount_product.id, refunded_orderline_id=voucher_line.id),
            ]
        )
        for _attempt in range(2):
            self._sync(refund)
        redemption.invalidate_recordset()
        self.assertEqual((redemption.state, redemption.used_ref), ("issued", False))
        self.assertEqual(PosOrder.lp_read_voucher(config, code)["code"], code)

    def test_voucher_of_a_stamp_card_gives_the_stamp_product(self):
        self._give_stamps(self.card, 3)
        result = self.card.redeem_stamps(staff_pin_id=self.staff.id, pin="1234", shop_id=self.shop.id)
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        voucher = PosOrder.lp_read_voucher(self.main_pos_config.id, result["code"])
        self.assertEqual((voucher["kind"], voucher["product_id"]), ("product", self.coffee.id))
        self.assertEqual(voucher["description"], "Free coffee")

    def test_refund_of_a_voucher_gives_points_back_only_while_unused(self):
        kept = self._sync(self._order([self._line(), self._voucher_line(self.rich_card)], card=self.rich_card))
        spent = self._sync(self._order([self._line(), self._voucher_line(self.rich_card)], card=self.rich_card))
        kept_line, spent_line = kept.lines.filtered("lp_reward_id"), spent.lines.filtered("lp_reward_id")
        self._sync(self._order([self._line(), self._voucher_code_line(spent_line.lp_issued_code)]))
        balance = self.rich_card.points_balance
        for origin_line in (kept_line, spent_line):
            refund = self._order(
                [self._line(-1, 0, product_id=self.discount_product.id, refunded_orderline_id=origin_line.id)],
                partner=self.rich,
            )
            refund["lp_card_id"] = False
            refund_order = self._sync(refund)
        # the unused one comes back and its code dies; the used one keeps its points spent
        self.assertEqual(kept_line.lp_redemption_id.state, "cancelled")
        self.assertEqual(spent_line.lp_redemption_id.state, "used")
        self.assertEqual(self.rich_card.points_balance, balance + 30)
        self.assertEqual(len(self._ledger(self.rich_card, transaction_type="points_refunded")), 1)
        self.assertIn("already used", refund_order.lp_message)

    # ------------------------------------------------------------------
    # Stamp card reward: the free item on the order, stamps spent when paid
    # ------------------------------------------------------------------

    def test_stamp_reward_line_spends_the_stamps_once_when_paid(self):
        Card = self.env["loyalty_plus.card"].with_user(self.pos_user)
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        config = self.main_pos_config.id
        card = Card.browse(self.card.id)
        data = self._order([self._line()], card=self.card)
        with self.assertRaisesRegex(LoyaltyPlusRefusal, "Not enough stamps: 0 of 3") as refused:
            card.lp_authorize_stamp_reward(config, data["uuid"], staff_pin_id=self.staff.id, pin="1234")
        self.assertEqual(refused.exception.data["card"]["stamps"], 0)
        self._give_stamps(self.card, 3)
        with self.assertRaises(LoyaltyPlusRefusal) as refused:
            card.lp_authorize_stamp_reward(config, data["uuid"], staff_pin_id=self.staff.id, pin="9999")
        self.assertEqual(refused.exception.code, "wrong_pin")
        with self.assertRaisesRegex(UserError, "staff PIN is required"):
            card.lp_authorize_stamp_reward(config, data["uuid"])
        with self.assertRaisesRegex(LoyaltyPlusRefusal, "Not enough stamps: 3 of 6"):
            card.lp_authorize_stamp_reward(config, data["uuid"], staff_pin_id=self.staff.id, pin="1234", count=2)
        approval = card.lp_authorize_stamp_reward(config, data["uuid"], staff_pin_id=self.staff.id, pin="1234")
        self.assertEqual((approval["card"]["stamps"], approval["staff_pin_id"]), (3, self.staff.id))
        self.assertEqual(self.card.stamp_count, 3, "nothing is spent before the order is paid")
        self.assertEqual(PosOrder.lp_check_redemptions(config, self.card.id, [], stamp_rewards=1)["card"]["stamps"], 3)
        data["lines"].append((0, 0, self._stamp_line(self.card, approval["grant"])))
        for _attempt in range(3):
            order = self._sync(data)
        redeemed = self._ledger(self.card, transaction_type="stamp_redeemed")
        self.assertEqual(len(redeemed), 1)
        self.assertEqual((redeemed.stamps_delta, redeemed.staff_pin_id, redeemed.pos_order_id), (-3, self.staff, order))
        self.assertEqual(self.card.stamp_count, 0)
        self.assertEqual(order.lp_stamps_redeemed, 3)
        line = order.lines.filtered("lp_stamp_reward")
        self.assertEqual((line.product_id, line.price_subtotal_incl), (self.coffee, 0))
        self.assertEqual(line.lp_redemption_id.state, "used")
        # the stamps are gone: refused before payment
        with self.assertRaisesRegex(LoyaltyPlusRefusal, "Not enough stamps: 0 of 3") as refused:
            PosOrder.lp_check_redemptions(config, self.card.id, [], stamp_rewards=1)
        self.assertEqual(refused.exception.code, "insufficient_stamps")

    def test_two_free_items_cost_two_full_stamp_cards(self):
        self._give_stamps(self.card, 5)
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        config = self.main_pos_config.id
        with self.assertRaisesRegex(LoyaltyPlusRefusal, "Not enough stamps: 5 of 6"):
            PosOrder.lp_check_redemptions(config, self.card.id, [], stamp_rewards=2)
        self._give_stamps(self.card, 1)
        data = self._order([self._line()], card=self.card)
        approval = self._approve_stamp_reward(self.card, data)
        data["lines"].append((0, 0, self._stamp_line(self.card, approval["grant"], qty=2)))
        order = self._sync(data)
        self.assertEqual((order.lp_stamps_redeemed, self.card.stamp_count), (6, 0))

    def test_each_unit_of_a_reward_line_costs_its_points(self):
        """A quantity raised on a reward line never buys several rewards for the points of one."""
        balance = self.rich_card.points_balance  # 130 (+ welcome points): two rewards of 50, not three
        units = balance // self.reward.points_cost + 1
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        with self.assertRaises(LoyaltyPlusRefusal, msg="the check before payment counts every unit") as refused:
            PosOrder.lp_check_redemptions(self.main_pos_config.id, self.rich_card.id, [self.reward.id] * units)
        self.assertEqual(refused.exception.code, "insufficient_points")
        order = self._sync(
            self._order([self._line(), self._reward_line(self.rich_card, qty=units)], card=self.rich_card)
        )
        redeemed = self._ledger(self.rich_card, transaction_type="points_redeemed")
        self.assertEqual(len(redeemed), units - 1, "each unit the card could pay is a redemption of its own")
        self.assertEqual(sum(redeemed.mapped("points_delta")), -(units - 1) * self.reward.points_cost)
        self.assertEqual(self.rich_card.points_balance, sum(self._ledger(self.rich_card).mapped("points_delta")))
        self.assertIn("not redeemed", order.lp_message)

    def test_edited_loyalty_lines_are_flagged_and_still_paid_for(self):
        """A reward line typed up to -50 for a 2 EUR reward, a voucher code on 3 units: the sale
        stands, the points and the code are spent once, and the order says what to check."""
        voucher = self.voucher_reward
        issued = self._sync(self._order([self._line(), self._voucher_line(self.rich_card)], card=self.rich_card))
        code = issued.lines.filtered("lp_reward_id").lp_issued_code
        balance = self.rich_card.points_balance
        edited = self._order(
            [
                self._line(qty=4),
                self._line(
                    price=-50.0,
                    product_id=self.discount_product.id,
                    lp_reward_id=self.reward.id,
                    lp_card_id=self.rich_card.id,
                    full_product_name=self.reward.name,
                ),
                self._voucher_code_line(code, qty=3),
            ],
            card=self.rich_card,
        )
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
            order = self._sync(edited)
        self.assertEqual(order.state, "paid")
        self.assertIn("takes", order.lp_message)
        self.assertIn("at most", order.lp_message)
        self.assertIn(f"Voucher {code} is on the order 3", order.lp_message)
        self.assertEqual(order.lp_points_redeemed, self.reward.points_cost, "the reward is still paid for")
        self.assertEqual(self.rich_card.points_balance, balance - self.reward.points_cost + order.lp_points_earned)
        redemption = self.env["loyalty_plus.redemption"].search([("code", "=", code)])
        self.assertEqual((redemption.reward_id, redemption.state), (voucher, "used"))
        # the rewards worth what they give are not flagged
        fair = self._sync(self._order([self._line(), self._reward_line(self.rich_card)], card=self.rich_card))
        self.assertFalse(fair.lp_message)

    def test_reward_lines_of_an_order_without_its_card(self):
        """A reward line is paid by the card it was added for when the order lost its card, and
        a reward line with no card at all is noted, never given for free."""
        balance = self.rich_card.points_balance
        data = self._order([self._line(), self._reward_line(self.rich_card)], partner=self.rich)
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
            order = self._sync(data)
        self.assertEqual(order.lines.filtered("lp_reward_id").lp_transaction_id.card_id, self.rich_card)
        self.assertEqual(self.rich_card.points_balance, balance - self.reward.points_cost)
        self.assertEqual(order.lp_points_redeemed, self.reward.points_cost)
        orphan_line = self._reward_line(self.rich_card)
        orphan_line["lp_card_id"] = False
        orphan = self._order([self._line(), orphan_line], partner=self.rich)
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
            order = self._sync(orphan)
        self.assertEqual(order.state, "paid")
        self.assertIn("Reward lines without a loyalty card: nothing redeemed.", order.lp_message)
        self.assertEqual(self.rich_card.points_balance, balance - self.reward.points_cost)

    def test_returned_free_items_give_their_stamps_back(self):
        self._give_stamps(self.card, 6)
        data = self._order([self._line()], card=self.card)
        approval = self._approve_stamp_reward(self.card, data)
        data["lines"].append((0, 0, self._stamp_line(self.card, approval["grant"], qty=2)))
        order = self._sync(data)
        stamp_line = order.lines.filtered("lp_stamp_reward")
        self.assertEqual(self.card.stamp_count, 0)

        def refund_one():
            refund = self._order(
                [self._line(-1, 0, product_id=self.coffee.id, refunded_orderline_id=stamp_line.id)], partner=self.lea
            )
            refund["lp_card_id"] = False
            return self._sync(refund)

        refund_one()
        self.assertEqual(self.card.stamp_count, 3, "one free item back: one full card back")
        self.assertEqual(stamp_line.lp_redemption_id.state, "used", "the other free item was given")
        refund_one()
        self.assertEqual(self.card.stamp_count, 6)
        self.assertEqual(stamp_line.lp_redemption_id.state, "cancelled")
        refund_one()  # more items returned than were given: nothing more comes back
        self.assertEqual(self.card.stamp_count, 6)
        given_back = self._ledger(self.card, transaction_type="stamp_refunded")
        self.assertEqual(given_back.mapped("stamps_delta"), [3, 3])
        self.assertEqual(self.card.total_stamps_redeemed, 0)
        self.assertEqual(self.card.stamp_count, sum(self._ledger(self.card).mapped("stamps_delta")))

    def test_stamp_reward_needs_the_server_approval_of_its_order(self):
        self._give_stamps(self.card, 3)
        other = self._order([self._line()], card=self.card)
        approval = self._approve_stamp_reward(self.card, other)
        for grant in ("forged", approval["grant"]):  # made up, or approved for another order
            data = self._order([self._line(), self._stamp_line(self.card, grant)], card=self.card)
            with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
                order = self._sync(data)
            self.assertEqual(order.state, "paid")
            self.assertIn("not approved with a staff PIN", order.lp_message)
        self.assertEqual(self.card.stamp_count, 3)
        self.assertFalse(self._ledger(self.card, transaction_type="stamp_redeemed"))

    # ------------------------------------------------------------------
    # Refunds and the merchant's void policy
    # ------------------------------------------------------------------

    def test_refund_voids_points_under_either_void_policy(self):
        """The void policy governs manual voids; a refund (authorised by the POS) always voids."""
        self.assertFalse(self.pos_user.has_group("loyalty_plus.group_loyalty_plus_manager"))
        for policy in ("manager", "cashier"):
            self.shop.loyalty_plus_void_policy = policy
            order = self._sync(self._order([self._line()], card=self.card))
            refund = self._order([self._line(qty=-1, refunded_orderline_id=order.lines.id)], partner=self.lea)
            refund["lp_card_id"] = False
            refund_order = self._sync(refund)
            voided = self._ledger(self.card, transaction_type="points_voided", pos_order_id=refund_order.id)
            self.assertEqual(voided.points_delta, -20, policy)
            self.assertEqual(voided.user_id, self.pos_user)
            self.assertEqual(self.card.points_balance, 0, policy)
        # a manual void of the same kind of entry still follows the policy
        self.shop.loyalty_plus_void_policy = "manager"
        order = self._sync(self._order([self._line()], card=self.card))
        earned = self._ledger(self.card, transaction_type="points_earned", pos_order_id=order.id)
        with self.assertRaisesRegex(AccessError, "Only a loyalty manager can void"):
            earned.with_user(self.pos_user).void()
        self.shop.loyalty_plus_void_policy = "cashier"
        earned.with_user(self.pos_user).void()
        self.assertEqual(self.card.points_balance, 0)

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
        with self._pin_attempts_kept():
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

    @mute_logger("odoo.http")
    def test_stamp_reward_at_the_till(self):
        self._give_stamps(self.card, 6)
        self.start_pos_tour("loyalty_plus_pos_stamp_reward")
        redeemed = self._ledger(self.card, transaction_type="stamp_redeemed")
        # one on the paid order, one by "another till"; the refused order was never paid
        self.assertEqual(len(redeemed), 2)
        paid = redeemed.pos_order_id
        self.assertEqual(len(paid), 1)
        self.assertEqual(paid.lp_stamps_redeemed, 3)
        line = paid.lines.filtered("lp_stamp_reward")
        self.assertEqual(
            (line.product_id, line.price_subtotal_incl, line.lp_staff_pin_id), (self.coffee, 0, self.staff)
        )
        self.assertEqual(self.card.stamp_count, 0)

    @mute_logger("odoo.http")
    def test_voucher_issued_then_brought_back(self):
        self.start_pos_tour("loyalty_plus_pos_voucher")
        redemption = self.env["loyalty_plus.redemption"].search([("reward_id", "=", self.voucher_reward.id)])
        self.assertEqual(redemption.state, "used")
        used_on = self.env["pos.order"].search([("lines.lp_voucher_code", "=", redemption.code)])
        self.assertEqual(len(used_on), 1)
        self.assertEqual(used_on.amount_total, 15)
        self.assertEqual(self.rich_card.points_balance, 130 - 30 + 20)

    def test_percent_reward_follows_the_order_at_the_till(self):
        tenth = self.env["loyalty_plus.reward"].create(
            {
                "name": "Tenth off",
                "program_id": self.program.id,
                "points_cost": 10,
                "reward_kind": "percent",
                "discount_percent": 10,
            }
        )
        self.start_pos_tour("loyalty_plus_pos_reward_follows_order")
        order = self.env["pos.order"].search([("lines.lp_reward_id", "=", tenth.id)])
        self.assertEqual(order.amount_total, 18)
        self.assertEqual(order.lines.filtered("lp_reward_id").price_subtotal_incl, -2)
        self.assertFalse(order.lp_message, "the reward line is worth what the reward gives")
        self.assertEqual(order.lp_points_redeemed, 10)

    def test_switching_card_or_customer_drops_the_previous_card(self):
        self.start_pos_tour("loyalty_plus_pos_switch_card")

    def test_offline_till_explains_and_sells_products(self):
        # a UPC-A barcode: it matches the card rule as well
        self.bread.barcode = "123456789012"
        self.start_pos_tour("loyalty_plus_pos_offline")

    @mute_logger("odoo.http")  # the refusal the tour provokes
    def test_redeem_now_refused_goes_back_to_the_pin_pad(self):
        self.program.stamp_cooldown_minutes = 0
        self._give_stamps(self.card, 2)
        self.start_pos_tour("loyalty_plus_pos_redeem_now_refused")
        self.assertEqual(self.card.stamp_count, 0)
        self.assertEqual(len(self._ledger(self.card, transaction_type="stamp_redeemed")), 1)
        self.assertFalse(self.staff.locked_until)

    def test_stamp_without_pin_when_the_program_asks_for_none(self):
        self.program.require_staff_pin = False
        self.staff.unlink()
        self.start_pos_tour("loyalty_plus_pos_stamp_without_pin")
        stamp = self._ledger(self.card, transaction_type="stamp_earned")
        self.assertEqual((self.card.stamp_count, len(stamp)), (1, 1))
        self.assertFalse(stamp.staff_pin_id)

    def test_enroll_at_the_till(self):
        # the merchant's enrollment link name publishes its terms (loyalty_plus_website): the till shows them
        self.shop.root_id.loyalty_plus_slug = "pos-bakery"
        self.assertTrue(self.program.terms_url.endswith("/loyalty/pos-bakery/terms"))
        self.start_pos_tour("loyalty_plus_pos_enroll")
        card = self.env["loyalty_plus.card"].search([("partner_id.email", "=", "nora@example.com")])
        self.assertEqual(card.partner_id.name, "Nora Newcomer")
        self.assertTrue(card.marketing_consent)
        self.assertEqual(card.shop_id, self.shop)
