from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestLoyaltyPlusPosPromotion(LoyaltyPlusPosCommon):
    """Campaigns at the till: the ones running now, discount promotions checked by the engine
    before the till adds their line, recorded once (caps counted) when the paid order syncs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_pos_config.with_user(cls.pos_user).open_ui()
        Campaign = cls.env["loyalty_plus.campaign"]
        cls.double_points = Campaign.create(
            {"name": "Double points day", "program_id": cls.program.id, "campaign_type": "multiplier", "multiplier": 2}
        )
        cls.ten_off = Campaign.create(
            {
                "name": "Member deal",
                "program_id": cls.program.id,
                "campaign_type": "discount",
                "discount_type": "percent",
                "discount_value": 10,
                "minimum_amount": 30,
            }
        )
        cls.scone = cls.env["product.product"].create(
            {"name": "LP Scone", "available_in_pos": True, "list_price": 4, "taxes_id": [fields.Command.clear()]}
        )

    def _promotion(self, **values):
        return self.env["loyalty_plus.campaign"].create(
            {
                "name": "Promotion",
                "program_id": self.program.id,
                "campaign_type": "discount",
                "discount_type": "fixed",
                "discount_value": 2,
                **values,
            }
        )

    def _set_tier(self, card, tier):
        # as the engine moves a card up once its points reach the tier (the field refuses writes)
        self.env.cr.execute(SQL("UPDATE loyalty_plus_card SET tier_id = %s WHERE id = %s", tier.id, card.id))
        card.invalidate_recordset(["tier_id"])

    def _till_lines(self, *lines):
        """Lines as the till sends them: (product, quantity, line total)."""
        return [
            {"product_id": product.id, "qty": qty, "price_incl": total, "price_excl": total}
            for product, qty, total in lines
        ]

    def _check(self, campaign, card, lines):
        return (
            self.env["pos.order"]
            .with_user(self.pos_user)
            .lp_check_promotion(self.main_pos_config.id, card.id, campaign.id, lines)
        )

    def _active(self, card=None, lines=None):
        return (
            self.env["pos.order"]
            .with_user(self.pos_user)
            .lp_active_campaigns(self.main_pos_config.id, card_id=card.id if card else None, lines=lines)
        )

    def _promotion_line(self, card, campaign, amount):
        return self._line(
            price=-amount,
            product_id=self.discount_product.id,
            lp_campaign_id=campaign.id,
            lp_card_id=card.id,
            full_product_name=campaign.name,
        )

    def _promotion_rows(self, campaign, card=None):
        domain = [("transaction_type", "=", "promotion"), ("campaign_id", "=", campaign.id)]
        if card:
            domain.append(("card_id", "=", card.id))
        return self.env["loyalty_plus.transaction"].sudo().search(domain)

    # ------------------------------------------------------------------
    # Campaigns running now
    # ------------------------------------------------------------------

    def test_active_campaigns_of_the_shop_for_the_card(self):
        """The till lists what runs now: not a campaign that starts tomorrow, nor one for another
        shop; a tier's campaign only once a card of that tier is on the order."""
        tomorrow = self._promotion(name="Tomorrow", date_start=fields.Datetime.add(fields.Datetime.now(), days=1))
        elsewhere_shop = self.env["res.company"].create({"name": "LP Other shop", "parent_id": self.shop.id})
        elsewhere = self._promotion(name="Elsewhere", shop_ids=[fields.Command.set(elsewhere_shop.ids)])
        gold_only = self._promotion(name="Gold only", tier_ids=[fields.Command.set(self.tier.ids)])

        listed = {c["id"]: c for c in self._active()}
        self.assertIn(self.double_points.id, listed)
        self.assertIn(self.ten_off.id, listed)
        self.assertNotIn(tomorrow.id, listed)
        self.assertNotIn(elsewhere.id, listed)
        self.assertNotIn(gold_only.id, listed, "a tier's campaign waits for a card of that tier")
        self.assertEqual(listed[self.double_points.id]["summary"], "\N{MULTIPLICATION SIGN}2 points")
        self.assertEqual(listed[self.double_points.id]["campaign_type"], "multiplier")
        self.assertEqual(
            (listed[self.ten_off.id]["discount_type"], listed[self.ten_off.id]["discount_value"]), ("percent", 10)
        )
        self.assertFalse(listed[self.ten_off.id]["applicable"], "without a card no promotion applies")

        self.assertNotIn(gold_only.id, {c["id"] for c in self._active(self.card)})
        self._set_tier(self.card, self.tier)
        self.assertIn(gold_only.id, {c["id"] for c in self._active(self.card)})

    def test_active_campaigns_say_which_promotion_the_order_meets(self):
        """With a card and the order's lines, a promotion says whether it applies now, and why not."""
        below = {c["id"]: c for c in self._active(self.card, self._till_lines((self.bread, 1, 20.0)))}
        self.assertFalse(below[self.ten_off.id]["applicable"])
        self.assertIn("does not apply", below[self.ten_off.id]["reason"])
        above = {c["id"]: c for c in self._active(self.card, self._till_lines((self.bread, 2, 40.0)))}
        self.assertTrue(above[self.ten_off.id]["applicable"])
        self.assertFalse(above[self.double_points.id]["applicable"], "only promotions apply at the till")

    # ------------------------------------------------------------------
    # Conditions, checked by the engine before the till adds the line
    # ------------------------------------------------------------------

    def test_promotion_minimum_spend(self):
        with self.assertRaises(LoyaltyPlusRefusal) as refusal:
            self._check(self.ten_off, self.card, self._till_lines((self.bread, 1, 20.0), (self.scone, 2, 8.0)))
        self.assertEqual(refusal.exception.code, "promotion_not_applicable")
        values = self._check(self.ten_off, self.card, self._till_lines((self.bread, 1, 20.0), (self.scone, 3, 12.0)))
        self.assertEqual((values["kind"], values["percent"], values["campaign_id"]), ("percent", 10, self.ten_off.id))

    def test_promotion_needs_its_product(self):
        bread_deal = self._promotion(name="Bread deal", product_ids=[fields.Command.set(self.bread.ids)])
        with self.assertRaises(LoyaltyPlusRefusal) as refusal:
            self._check(bread_deal, self.card, self._till_lines((self.scone, 5, 20.0)))
        self.assertEqual(refusal.exception.code, "promotion_not_applicable")
        values = self._check(bread_deal, self.card, self._till_lines((self.scone, 5, 20.0), (self.bread, 1, 20.0)))
        self.assertEqual((values["kind"], values["amount"]), ("amount", 2.0))

    def test_promotion_of_a_tier(self):
        gold_deal = self._promotion(
            name="Gold deal", discount_type="product", discount_product_id=self.scone.id, tier_ids=[self.tier.id]
        )
        lines = self._till_lines((self.bread, 1, 20.0))
        with self.assertRaises(LoyaltyPlusRefusal) as refusal:
            self._check(gold_deal, self.card, lines)
        self.assertEqual(refusal.exception.code, "promotion_not_applicable")
        self._set_tier(self.card, self.tier)
        values = self._check(gold_deal, self.card, lines)
        self.assertEqual((values["kind"], values["product_id"]), ("product", self.scone.id))

    def test_promotion_of_another_program_or_without_a_card_refused(self):
        other_merchant = self.env["res.company"].create({"name": "LP Other merchant"})
        other_program = self.env["loyalty_plus.program"].create(
            {"name": "Other", "company_id": other_merchant.id, "program_type": "points"}
        )
        foreign = self._promotion(program_id=other_program.id)
        lines = self._till_lines((self.bread, 2, 40.0))
        for campaign_id, card_id in ((foreign.id, self.card.id), (self.ten_off.id, False), (0, self.card.id)):
            with (
                self.subTest(campaign_id=campaign_id, card_id=card_id),
                self.assertRaises(LoyaltyPlusRefusal) as refusal,
            ):
                self.env["pos.order"].with_user(self.pos_user).lp_check_promotion(
                    self.main_pos_config.id, card_id, campaign_id, lines
                )
            self.assertEqual(refusal.exception.code, "promotion_not_applicable")
        with self.assertRaises(LoyaltyPlusRefusal) as refusal:
            self._check(self.ten_off, self.card, [{"product_id": "bread", "qty": "many"}])
        self.assertEqual(refusal.exception.code, "validation_error")

    # ------------------------------------------------------------------
    # At sync: recorded once, caps counted, a refusal is a note
    # ------------------------------------------------------------------

    def test_promotion_line_synced_writes_its_ledger_row_once(self):
        data = self._order([self._line(qty=2), self._promotion_line(self.card, self.ten_off, 4.0)], card=self.card)
        order = self._sync(data)
        self.assertEqual(order.state, "paid")
        row = self._promotion_rows(self.ten_off)
        self.assertEqual(len(row), 1)
        self.assertEqual((row.card_id, row.pos_order_id, row.order_ref), (self.card, order, order.uuid))
        self.assertEqual((row.points_delta, row.stamps_delta), (0, 0))
        promotion_line = order.lines.filtered("lp_campaign_id")
        self.assertEqual(promotion_line.lp_transaction_id, row)
        self.assertIn("Member deal", order.lp_campaign_names)
        self.assertFalse(order.lp_message)
        # the engine read the sold lines only, at their full price
        self.assertEqual(
            order._lp_promotion_lines(self.card),
            [{"product_id": self.bread.id, "qty": 2.0, "price_incl": 40.0, "price_excl": 40.0}],
        )
        self.assertTrue(promotion_line._lp_is_loyalty_line(), "a promotion line earns nothing")

        self._sync(data)  # a replayed sync
        self.assertEqual(len(self._promotion_rows(self.ten_off)), 1)

    @mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order_promotion")
    def test_promotion_cap_per_member_at_sync(self):
        once = self._promotion(name="Once per member", max_uses_per_member=1)
        first = self._sync(self._order([self._line(), self._promotion_line(self.card, once, 2.0)], card=self.card))
        second = self._sync(self._order([self._line(), self._promotion_line(self.card, once, 2.0)], card=self.card))
        other = self._sync(
            self._order([self._line(), self._promotion_line(self.rich_card, once, 2.0)], card=self.rich_card)
        )
        self.assertEqual(len(self._promotion_rows(once, self.card)), 1)
        self.assertEqual(self._promotion_rows(once, self.card).pos_order_id, first)
        self.assertEqual(len(self._promotion_rows(once, self.rich_card)), 1, "another member's use is their own")
        self.assertEqual(second.state, "paid", "the sale stands")
        self.assertIn("Once per member", second.lp_message)
        self.assertIn("used as often as it may be", second.lp_message)
        self.assertFalse(other.lp_message)

    @mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order_promotion")
    def test_promotion_cap_overall_at_sync(self):
        first_two = self._promotion(name="First two orders", max_uses=2)
        orders = [
            self._sync(self._order([self._line(), self._promotion_line(card, first_two, 2.0)], card=card))
            for card in (self.card, self.rich_card, self.card)
        ]
        self.assertEqual(first_two.use_count, 2)
        self.assertEqual(self._promotion_rows(first_two).pos_order_id, orders[0] | orders[1])
        self.assertIn("First two orders", orders[2].lp_message)
        self.assertFalse(orders[2].lines.filtered("lp_campaign_id").lp_transaction_id)
        # a replay of a counted order counts nothing more
        self._sync(self._order([self._line(), self._promotion_line(self.card, first_two, 2.0)], card=self.card))
        self.assertEqual(first_two.use_count, 2)

    def test_promotion_ended_before_the_sync_refused_at_sync(self):
        ended = self._promotion(name="Ended")
        data = self._order([self._line(), self._promotion_line(self.card, ended, 2.0)], card=self.card)
        ended.date_end = fields.Datetime.subtract(fields.Datetime.now(), hours=1)
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order_promotion"):
            order = self._sync(data)
        self.assertEqual(order.state, "paid")
        self.assertIn("Ended", order.lp_message)
        self.assertFalse(self._promotion_rows(ended))

    # ------------------------------------------------------------------
    # Tours
    # ------------------------------------------------------------------

    def test_tour_promotion_shown_applied_paid(self):
        """An active campaign shows before a member is found; with the member, the promotion the
        order meets is offered, applied, paid; the receipt names it; the customer display gets
        the member's progress."""
        self.program.require_staff_pin = False
        self._give_stamps(self.card, 2)
        self.start_pos_tour("loyalty_plus_pos_promotion_applied_paid", login="pos_user")
        order = self.env["pos.order"].search(
            [("session_id", "=", self.main_pos_config.current_session_id.id), ("lp_card_id", "=", self.card.id)]
        )
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
        self.assertEqual(len(self._promotion_rows(self.ten_off, self.card)), 1)
        self.assertAlmostEqual(order.amount_total, 36.0)

    def test_tour_customer_display_shows_member_progress(self):
        self.start_tour(
            f"/pos_customer_display/{self.main_pos_config.id}/{self.main_pos_config.access_token}",
            "loyalty_plus_customer_display_member",
            login="pos_user",
        )
