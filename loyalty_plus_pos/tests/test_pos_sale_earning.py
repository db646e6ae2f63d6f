from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestPosSaleEarning(LoyaltyPlusPosCommon):
    """A paid sale earns its stamps and points when it syncs: one stamp per coffee here, the
    stamps approved by one staff PIN in the payment flow when the program asks for it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_pos_config.with_user(cls.pos_user).open_ui()
        cls.espresso = cls.env["product.product"].create(
            {
                "name": "LP Espresso",
                "available_in_pos": True,
                "list_price": 3,
                "taxes_id": [fields.Command.clear()],
                "pos_categ_ids": [fields.Command.set(cls.main_pos_config.iface_available_categ_ids[:1].ids)],
            }
        )
        cls.program.write({"stamp_cooldown_minutes": 0, "max_stamps_per_day": 0, "stamps_target": 10})
        cls.coffee_rule = cls.env["loyalty_plus.earning_rule"].create(
            {
                "program_id": cls.program.id,
                "name": "A stamp per coffee",
                "rule_type": "stamps_item",
                "stamps": 1,
                "product_ids": [fields.Command.set(cls.espresso.ids)],
            }
        )

    def _ledger(self, card, **domain):
        return (
            self.env["loyalty_plus.transaction"]
            .sudo()
            .search([("card_id", "=", card.id), *[(k, "=", v) for k, v in domain.items()]])
        )

    def _coffees(self, qty=2, **extra):
        return self._line(qty=qty, price=3.0, product_id=self.espresso.id, **extra)

    def _authorize_sale(self, order_data, card=None, pin="1234"):
        """The approval the till gets when the cashier types Anna's PIN in the payment flow."""
        return (
            self.env["loyalty_plus.card"]
            .with_user(self.pos_user)
            .browse((card or self.card).id)
            .lp_authorize_sale(self.main_pos_config.id, order_data["uuid"], staff_pin_id=self.staff.id, pin=pin)
        )

    def _approved(self, order_data, authorization=None):
        authorization = authorization or self._authorize_sale(order_data)
        order_data.update(lp_staff_pin_id=authorization["staff_pin_id"], lp_grant=authorization["grant"])
        return order_data

    def test_two_coffees_earn_two_stamps_once(self):
        data = self._approved(self._order([self._coffees()], card=self.card))
        order = self._sync(data)
        self._sync(data)
        order._lp_settle()  # a settlement run again writes nothing more
        stamps = self._ledger(self.card, transaction_type="stamp_earned")
        self.assertEqual((len(stamps), stamps.stamps_delta), (1, 2))
        self.assertEqual(stamps.earning_rule_id, self.coffee_rule)
        self.assertEqual(stamps.staff_pin_id, self.staff)
        self.assertEqual(stamps.pos_order_id, order)
        self.assertEqual(self.card.stamp_count, 2)
        self.assertEqual(self.card.points_balance, 6)
        self.assertEqual(
            (
                order.lp_stamps_earned,
                order.lp_stamps_balance,
                order.lp_stamps_target,
                order.lp_points_earned,
                order.lp_points_balance,
            ),
            (2, 2, 10, 6, 6),
        )
        self.assertEqual(order.lp_card_number_masked, "•••• •••• 0013")
        self.assertFalse(order.lp_message)

    def test_points_and_no_stamps_without_the_staff_approval(self):
        for grant in (False, "forged"):
            data = self._order([self._coffees()], card=self.card)
            data.update(lp_staff_pin_id=self.staff.id, lp_grant=grant)
            order = self._sync(data)
            self.assertEqual((order.lp_stamps_earned, order.lp_points_earned), (0, 6))
            self.assertIn("staff PIN", order.lp_message)
            self.assertFalse(order.lp_staff_pin_id, "nobody approved the stamps of this sale")
        self.assertEqual((self.card.stamp_count, self.card.points_balance), (0, 12))
        self.assertFalse(self._ledger(self.card, transaction_type="stamp_earned"))

    def test_an_approval_is_for_one_order_card_and_purpose(self):
        first = self._order([self._coffees()], card=self.card)
        approval = self._authorize_sale(first)
        # the approval of another order
        other = self._sync(self._approved(self._order([self._coffees()], card=self.card), approval))
        self.assertEqual(other.lp_stamps_earned, 0)
        # of the same order on another card
        rich = self._sync(
            self._approved({**first, "lp_card_id": self.rich_card.id, "partner_id": self.rich.id}, approval)
        )
        self.assertEqual(rich.lp_stamps_earned, 0)
        self.assertEqual(self.rich_card.stamp_count, 0)
        # a stamp reward's approval of the same order approves no sale stamps, and the other way round
        self._give_stamps(self.card, 10)
        data = self._order([self._coffees()], card=self.card)
        reward_approval = self._approve_stamp_reward(self.card, data)
        order = self._sync(self._approved(data, reward_approval))
        self.assertEqual(order.lp_stamps_earned, 0)
        data = self._order([self._coffees(), self._stamp_line(self.card, grant=False)], card=self.card)
        sale_approval = self._authorize_sale(data)
        data["lines"][1][2]["lp_grant"] = sale_approval["grant"]
        with mute_logger("odoo.addons.loyalty_plus_pos.models.pos_order"):
            order = self._sync(data)
        self.assertFalse(order.lines.filtered("lp_stamp_reward").lp_transaction_id)
        self.assertIn("not approved", order.lp_message)

    @mute_logger("odoo.addons.loyalty_plus.models.loyalty_plus_staff_pin")
    def test_the_pin_of_the_payment_flow_is_checked(self):
        data = self._order([self._coffees()], card=self.card)
        with self.assertRaises(LoyaltyPlusRefusal) as refusal:
            self._authorize_sale(data, pin="9999")
        self.assertEqual(refusal.exception.code, "wrong_pin")
        with self.assertRaises(LoyaltyPlusRefusal) as refusal:
            self.env["loyalty_plus.card"].with_user(self.pos_user).browse(self.card.id).lp_authorize_sale(
                self.main_pos_config.id, data["uuid"]
            )
        self.assertEqual(refusal.exception.code, "staff_pin_required")

    def test_no_pin_needed_when_the_program_asks_for_none(self):
        self.program.require_staff_pin = False
        order = self._sync(self._order([self._coffees()], card=self.card))
        self.assertEqual((order.lp_stamps_earned, self.card.stamp_count), (2, 2))
        self.assertFalse(self._ledger(self.card, transaction_type="stamp_earned").staff_pin_id)

    def test_refund_of_one_coffee_takes_one_stamp_back(self):
        order = self._sync(self._approved(self._order([self._coffees()], card=self.card)))
        self.assertEqual(self.card.stamp_count, 2)
        line = order.lines
        refund = self._order([self._coffees(qty=-1, refunded_orderline_id=line.id)], partner=self.lea)
        refund_order = self._sync(refund)
        self._sync(refund)
        self.assertEqual((self.card.stamp_count, self.card.points_balance), (1, 3))
        self.assertEqual((refund_order.lp_stamps_voided, refund_order.lp_points_voided), (1, 3))
        self.assertEqual(refund_order.lp_stamps_balance, 1)
        voided = self._ledger(self.card, transaction_type="stamp_voided")
        self.assertEqual((voided.stamps_delta, voided.pos_order_id), (-1, refund_order))
        # the second coffee comes back another day
        refund = self._order([self._coffees(qty=-1, refunded_orderline_id=line.id)], partner=self.lea)
        self._sync(refund)
        self.assertEqual((self.card.stamp_count, self.card.points_balance), (0, 0))

    def test_earning_counts_what_was_paid_net_of_the_rewards(self):
        order = self._sync(
            self._approved(
                self._order([self._coffees(qty=4), self._reward_line(self.rich_card)], card=self.rich_card),
                self._authorize_sale({"uuid": "unused"}, card=self.rich_card),
            )
        )
        # 12.00 of coffees, 2.00 off: 10 points; the reward line is no coffee
        self.assertEqual((order.lp_points_earned, order.lp_points_redeemed), (10, 50))
        self.assertIn("staff PIN", order.lp_message, "the approval was for another order")

    def test_an_offline_sale_earns_by_the_campaigns_of_its_time(self):
        self.program.require_staff_pin = False
        opened = self.main_pos_config.current_session_id.create_date
        Campaign = self.env["loyalty_plus.campaign"]
        values = {"program_id": self.program.id, "campaign_type": "multiplier", "multiplier": 2}
        Campaign.create(
            {
                **values,
                "name": "Opening hour",
                "date_start": opened + timedelta(minutes=5),
                "date_end": opened + timedelta(hours=1),
            }
        )
        Campaign.create(
            {
                **values,
                "name": "Last week",
                "date_start": opened - timedelta(days=8),
                "date_end": opened - timedelta(days=6),
            }
        )
        sold = self._order([self._coffees()], card=self.card)
        sold["date_order"] = fields.Datetime.to_string(opened + timedelta(minutes=10))
        # a till's clock set back to last week: the sale happened after the session opened
        backdated = self._order([self._coffees()], card=self.card)
        backdated["date_order"] = fields.Datetime.to_string(opened - timedelta(days=7))
        with freeze_time(opened + timedelta(hours=3)):
            sold, backdated = self._sync(sold), self._sync(backdated)
        self.assertEqual((sold.lp_points_earned, sold.lp_campaign_names), (12, "Opening hour"))
        self.assertEqual((backdated.lp_points_earned, backdated.lp_campaign_names), (6, False))

    def test_preview_of_the_till(self):
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        lines = [
            {"product_id": self.espresso.id, "qty": 2, "price_incl": 6.0, "price_excl": 6.0},
            {"product_id": self.bread.id, "qty": 1, "price_incl": 20.0, "price_excl": 20.0},
            {"product_id": self.discount_product.id, "qty": 1, "price_incl": -2.6, "price_excl": -2.6, "loyalty": True},
        ]
        preview = PosOrder.lp_preview(self.main_pos_config.id, self.card.id, lines)
        self.assertEqual((preview["stamps"], preview["points"], preview["pin_required"]), (2, 23, True))
        self.assertEqual(preview["summary"], "Earns 2 stamps and 23 points")
        self.assertFalse(PosOrder.lp_preview(self.main_pos_config.id, False, lines))
        self.program.require_staff_pin = False
        self.assertFalse(PosOrder.lp_preview(self.main_pos_config.id, self.card.id, lines)["pin_required"])
        self.card.action_archive()
        with self.assertRaises(LoyaltyPlusRefusal):
            PosOrder.lp_preview(self.main_pos_config.id, self.card.id, lines)

    # ------------------------------------------------------------------
    # Browser tours
    # ------------------------------------------------------------------

    def test_two_coffees_with_one_pin_in_the_payment_flow(self):
        self.start_pos_tour("loyalty_plus_pos_sale_stamps_pin")
        order = self._ledger(self.card, transaction_type="stamp_earned").pos_order_id
        self.assertEqual((self.card.stamp_count, order.lp_stamps_earned), (2, 2))
        self.assertEqual(order.lp_staff_pin_id, self.staff)

    def test_sale_without_pin_then_refund(self):
        self.program.require_staff_pin = False
        self.start_pos_tour("loyalty_plus_pos_sale_stamps_no_pin_refund")
        self.assertEqual(len(self._ledger(self.card, transaction_type="stamp_earned")), 1)
        self.assertEqual(len(self._ledger(self.card, transaction_type="stamp_voided")), 1)
        self.assertEqual((self.card.stamp_count, self.card.points_balance), (0, 0))

    def test_double_points_campaign_on_the_preview_and_receipt(self):
        self.program.require_staff_pin = False
        # no dates, no weekday: every day, now
        campaign = self.env["loyalty_plus.campaign"].create(
            {
                "program_id": self.program.id,
                "name": "Double points day",
                "campaign_type": "multiplier",
                "apply_to": "points",
                "multiplier": 2,
            }
        )
        # and a stamp per 10.00 spent: the card panel says what is left to spend
        self.env["loyalty_plus.earning_rule"].create(
            {"program_id": self.program.id, "name": "A stamp per 10", "rule_type": "stamps_spend", "spend_step": 10}
        )
        self.start_pos_tour("loyalty_plus_pos_sale_double_points")
        order = self._ledger(self.card, transaction_type="stamp_earned").pos_order_id
        self.assertEqual((order.lp_points_earned, order.lp_campaign_names), (12, "Double points day"))
        self.assertEqual((self.card.stamp_count, self.card.stamp_bank), (2, 6))
        self.assertEqual(self._ledger(self.card, campaign_id=campaign.id).pos_order_id, order)
