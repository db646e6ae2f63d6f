from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .test_earning_rules import EarningCase

# Tuesday 10 March 2026, noon in Luxembourg: the sales and their refunds happen then
TUESDAY = "2026-03-10 11:00:00"


@tagged("post_install", "-at_install")
class TestRefundPrecision(EarningCase):
    """A refund takes back what the returned lines earned, row by row: a rule's points only for
    the returned items it counted, a campaign's multiplier with the points it multiplied, a fixed
    bonus once what remains misses its conditions; a promotion's use comes back with the order."""

    def setUp(self):
        super().setUp()
        clock = freeze_time(TUESDAY)
        clock.start()
        self.addCleanup(clock.stop)

    def refund(self, ref, returned, remaining, card=None):
        return (card or self.card)._void_order_earnings(ref, returned, remaining, self.merchant, note="Refund")

    def points_of(self, rows, rule=None, campaign=None):
        """The points the ledger rows of ``rule`` (False: the program's rate) or ``campaign`` hold,
        their voids included."""
        mine = rows.filtered(
            lambda r: (
                r.campaign_id == (campaign or r.env["loyalty_plus.campaign"])
                and r.earning_rule_id == (rule or r.env["loyalty_plus.earning_rule"])
            )
        )
        voids = self.env["loyalty_plus.transaction"].sudo().search([("origin_transaction_id", "in", mine.ids)])
        return sum((mine | voids).mapped("points_delta"))

    def refusal_code(self, call):
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            call()
        return caught.exception.code

    # ------------------------------------------------------------------
    # rules: a category's rate, a product's multiplier, the program's rate
    # ------------------------------------------------------------------

    def test_category_rate_and_order_rate(self):
        """3 points per euro on coffee, 1 on the rest: €10 of espresso (30 points) and a €10
        croissant (10 points). The croissant comes back: 10 points go, the coffee's 30 stay;
        then the espresso: its 30 go."""
        coffee_rate = self.rule("points_spend", points_per_euro=3, category_ids=[self.coffee.id])
        espresso, croissant = self.line(self.espresso, 2, 10.0), self.line(self.croissant, 1, 10.0)
        rows = self.earn([espresso, croissant], ref="RATE")
        self.assertCard(points=40)
        voided = self.refund("RATE", [croissant], [espresso])
        self.assertEqual(self.effects(voided), [("points_voided", False, False, 0, -10, 0.0)])
        self.assertEqual((self.points_of(rows), self.points_of(rows, coffee_rate)), (0, 30))
        self.assertCard(points=30)
        self.refund("RATE", [espresso], [])
        self.assertEqual(self.points_of(rows, coffee_rate), 0)
        self.assertCard(points=0)

    def test_category_rate_return_of_the_category_item(self):
        """The same order, the espresso back first: the coffee rule's 30 points go, the
        croissant's 10 stay."""
        coffee_rate = self.rule("points_spend", points_per_euro=3, category_ids=[self.coffee.id])
        espresso, croissant = self.line(self.espresso, 2, 10.0), self.line(self.croissant, 1, 10.0)
        rows = self.earn([espresso, croissant], ref="RATE")
        self.refund("RATE", [espresso], [croissant])
        self.assertEqual((self.points_of(rows), self.points_of(rows, coffee_rate)), (10, 0))
        self.assertCard(points=10)

    def test_product_multiplier_keeps_its_points_when_another_item_returns(self):
        """Coffee x2 (a rule): €10 of espresso earns 10 + 10, a €10 croissant 10. Returning the
        croissant takes its 10 points only; returning one espresso of two then takes 5 of the
        rate's and 5 of the multiplier's; the last espresso the rest."""
        double_coffee = self.rule("points_multiplier", multiplier=2, category_ids=[self.coffee.id])
        croissant = self.line(self.croissant, 1, 10.0)
        rows = self.earn([self.line(self.espresso, 2, 10.0), croissant], ref="MULT")
        self.assertEqual((self.points_of(rows), self.points_of(rows, double_coffee)), (20, 10))
        self.refund("MULT", [croissant], [self.line(self.espresso, 2, 10.0)])
        self.assertEqual((self.points_of(rows), self.points_of(rows, double_coffee)), (10, 10))
        self.assertCard(points=20)
        self.refund("MULT", [self.line(self.espresso, 1, 5.0)], [self.line(self.espresso, 1, 5.0)])
        self.assertEqual((self.points_of(rows), self.points_of(rows, double_coffee)), (5, 5))
        self.refund("MULT", [self.line(self.espresso, 1, 5.0)], [])
        self.assertCard(points=0)

    def test_the_same_refund_twice_takes_nothing_more(self):
        """A refund's points are what the rows hold beyond what remains: replayed, nothing more."""
        self.rule("points_spend", points_per_euro=3, category_ids=[self.coffee.id])
        espresso, croissant = self.line(self.espresso, 2, 10.0), self.line(self.croissant, 1, 10.0)
        self.earn([espresso, croissant], ref="TWICE")
        self.refund("TWICE", [croissant], [espresso])
        self.assertFalse(self.refund("TWICE", [croissant], [espresso]))
        self.assertCard(points=30)

    def test_below_the_minimum_purchase_every_point_goes(self):
        """A program earning from €15: a €20 order keeps €8 after the refund, which would earn
        nothing: every row goes."""
        self.program.minimum_purchase = 15
        coffee_rate = self.rule("points_spend", points_per_euro=3, category_ids=[self.coffee.id])
        espresso, croissant = self.line(self.espresso, 1, 8.0), self.line(self.croissant, 1, 12.0)
        rows = self.earn([espresso, croissant], ref="MIN")
        self.assertEqual((self.points_of(rows), self.points_of(rows, coffee_rate)), (12, 24))
        self.refund("MIN", [croissant], [espresso])
        self.assertCard(points=0)

    # ------------------------------------------------------------------
    # campaigns: a multiplier follows its points, a bonus its conditions
    # ------------------------------------------------------------------

    def test_double_points_campaign_follows_the_points_it_doubled(self):
        """x2 points on coffee 3/€ (€10: 30) and a €10 croissant (10): the campaign gives 40.
        The croissant back: its 10 and the campaign's 10 on them go (60 left), not half of all."""
        coffee_rate = self.rule("points_spend", points_per_euro=3, category_ids=[self.coffee.id])
        double = self.campaign("multiplier", multiplier=2, apply_to="points")
        espresso, croissant = self.line(self.espresso, 2, 10.0), self.line(self.croissant, 1, 10.0)
        rows = self.earn([espresso, croissant], ref="X2")
        self.assertEqual(self.points_of(rows, campaign=double), 40)
        self.assertCard(points=80)
        self.refund("X2", [croissant], [espresso])
        self.assertEqual(
            (self.points_of(rows), self.points_of(rows, coffee_rate), self.points_of(rows, campaign=double)),
            (0, 30, 30),
        )
        self.assertCard(points=60)
        self.refund("X2", [espresso], [])
        self.assertCard(points=0)

    def test_bonus_stays_while_what_remains_qualifies(self):
        """+50 points: a partial return keeps them, the last return takes them."""
        bonus = self.campaign("bonus", bonus_points=50)
        espresso, croissant = self.line(self.espresso, 1, 10.0), self.line(self.croissant, 1, 10.0)
        rows = self.earn([espresso, croissant], ref="BONUS")
        self.assertCard(points=70)
        self.refund("BONUS", [croissant], [espresso])
        self.assertEqual(self.points_of(rows, campaign=bonus), 50)
        self.assertCard(points=60)
        self.refund("BONUS", [espresso], [])
        self.assertCard(points=0)

    def test_bonus_goes_when_what_remains_misses_its_conditions(self):
        """+50 points from €15: €8 of croissant back keeps €12 (below €15), so the bonus goes.
        +20 on an order with a coffee: the croissant back keeps it, the coffee back takes it."""
        from_15 = self.campaign("bonus", bonus_points=50, minimum_amount=15)
        espresso, croissant = self.line(self.espresso, 1, 12.0), self.line(self.croissant, 1, 8.0)
        rows = self.earn([espresso, croissant], ref="MIN15")
        self.assertEqual(self.points_of(rows, campaign=from_15), 50)
        self.refund("MIN15", [croissant], [espresso])
        self.assertEqual(self.points_of(rows, campaign=from_15), 0)
        self.assertCard(points=12)
        from_15.active = False
        on_coffee = self.campaign("bonus", bonus_points=20, category_ids=[self.coffee.id])
        rows = self.earn([espresso, croissant], ref="CROISSANT-BACK")
        self.refund("CROISSANT-BACK", [croissant], [espresso])
        self.assertEqual(self.points_of(rows, campaign=on_coffee), 20)
        rows = self.earn([espresso, croissant], ref="COFFEE-BACK")
        self.refund("COFFEE-BACK", [espresso], [croissant])
        self.assertEqual(self.points_of(rows, campaign=on_coffee), 0)
        self.assertCard(points=12 + 12 + 20 + 8)

    def test_capped_bonus_given_back_with_what_earned_it(self):
        """+30 from €15 for one order in all: the second member's order gets nothing; the first
        order's espresso back leaves €8, the bonus goes and its use with it (once: the rest of
        the order back gives nothing more); the next order gets the bonus."""
        first = self.campaign("bonus", bonus_points=30, minimum_amount=15, max_uses=1)
        espresso, croissant = self.line(self.espresso, 1, 12.0), self.line(self.croissant, 1, 8.0)
        rows = self.earn([espresso, croissant], ref="CAP-1")
        self.assertEqual((self.points_of(rows, campaign=first), first.use_count), (30, 1))
        self.assertEqual(self.points_of(self.earn([espresso], card=self.card2, ref="CAP-2"), campaign=first), 0)
        self.refund("CAP-1", [espresso], [croissant])
        self.assertEqual((self.points_of(rows, campaign=first), first.use_count), (0, 0))
        self.refund("CAP-1", [croissant], [])
        self.assertEqual(first.use_count, 0)
        rows = self.earn([espresso, croissant], card=self.card2, ref="CAP-3")
        self.assertEqual((self.points_of(rows, campaign=first), first.use_count), (30, 1))

    def test_capped_bonus_kept_by_a_partial_return(self):
        """What remains still meets the bonus's conditions: the use stays counted."""
        first = self.campaign("bonus", bonus_points=30, max_uses=1)
        espresso, croissant = self.line(self.espresso, 1, 12.0), self.line(self.croissant, 1, 8.0)
        rows = self.earn([espresso, croissant], ref="KEEP-1")
        self.refund("KEEP-1", [croissant], [espresso])
        self.assertEqual((self.points_of(rows, campaign=first), first.use_count), (30, 1))

    def test_capped_bonus_per_member_given_back(self):
        """Once per member: the member's order returned, the next one gets the bonus again, once."""
        once = self.campaign("bonus", bonus_points=30, max_uses_per_member=1)
        order = [self.line(self.espresso, 1, 10.0)]
        self.assertEqual(self.points_of(self.earn(order, ref="PM-1"), campaign=once), 30)
        self.assertEqual(self.points_of(self.earn(order, ref="PM-2"), campaign=once), 0)
        self.refund("PM-1", order, [])
        self.assertEqual(self.points_of(self.earn(order, ref="PM-3"), campaign=once), 30)
        self.assertEqual(self.points_of(self.earn(order, ref="PM-4"), campaign=once), 0)

    # ------------------------------------------------------------------
    # promotions: the use comes back with the order
    # ------------------------------------------------------------------

    def test_promotion_cap_in_all_given_back_once(self):
        """A promotion for two orders in all: used by P-1 and P-2, none left; P-1 returned in two
        refunds gives its use back at the last one, once (the refund replayed gives nothing)."""
        promo = self.campaign("discount", discount_value=10, max_uses=2)
        espresso, croissant = self.line(self.espresso, 1, 5.0), self.line(self.croissant, 1, 5.0)
        self.card._use_promotion(promo, self.merchant, "P-1", [espresso, croissant])
        self.card2._use_promotion(promo, self.merchant, "P-2", [espresso])
        self.assertEqual(promo.use_count, 2)
        self.assertEqual(
            self.refusal_code(lambda: self.card._use_promotion(promo, self.merchant, "P-3", [espresso])),
            "promotion_cap_reached",
        )
        # a partial return keeps the use: the discount stays on what remains
        self.assertFalse(self.refund("P-1", [croissant], [espresso]))
        self.assertEqual(promo.use_count, 2)
        given_back = self.refund("P-1", [espresso], [])
        self.assertRecordValues(
            given_back, [{"transaction_type": "promotion", "campaign_id": promo.id, "points_delta": 0}]
        )
        self.assertEqual(given_back.origin_transaction_id.order_ref, "P-1")
        self.assertEqual(promo.use_count, 1)
        self.assertFalse(self.refund("P-1", [espresso], []))
        self.assertEqual(promo.use_count, 1)
        self.card._use_promotion(promo, self.merchant, "P-3", [espresso])
        self.assertEqual(promo.use_count, 2)
        self.assertEqual(
            self.refusal_code(lambda: promo._check_promotion(self.card2, [espresso], self.merchant)),
            "promotion_cap_reached",
        )

    def test_promotion_cap_per_member_given_back(self):
        """Once per member: the member's order returned, the member may use it again, once."""
        promo = self.campaign("discount", discount_value=10, max_uses_per_member=1)
        order = [self.line(self.espresso, 1, 5.0)]
        self.card._use_promotion(promo, self.merchant, "M-1", order)
        self.assertEqual(
            self.refusal_code(lambda: promo._check_promotion(self.card, order, self.merchant)),
            "promotion_cap_reached",
        )
        self.refund("M-1", order, [])
        self.assertEqual(promo._check_promotion(self.card, order, self.merchant)["campaign_id"], promo.id)
        self.card._use_promotion(promo, self.merchant, "M-2", order)
        self.assertEqual(
            self.refusal_code(lambda: self.card._use_promotion(promo, self.merchant, "M-3", order)),
            "promotion_cap_reached",
        )
        # the first refund replayed gives nothing back a second time
        self.assertFalse(self.refund("M-1", order, []))
        self.assertEqual(
            self.refusal_code(lambda: promo._check_promotion(self.card, order, self.merchant)),
            "promotion_cap_reached",
        )
