import threading
import time
from datetime import datetime

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import UserError
from odoo.orm.environments import Transaction
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import CommittedDataCase, create_committed_merchant, remove_committed_merchant
from .test_earning_rules import EarningCase

# Tuesday 10 March 2026; Luxembourg is at UTC+1 until 29 March, UTC+2 after
TUESDAY = "2026-03-10 12:00:00"


@tagged("post_install", "-at_install")
class TestCampaigns(EarningCase):
    """Campaigns at the edges of their windows (merchant's time), their effects, stacking, caps."""

    def bonus_of(self, rows, campaign):
        return sum(rows.filtered(lambda r: r.campaign_id == campaign).mapped("points_delta"))

    # ------------------------------------------------------------------
    # the window: dates, weekdays, hours, shops, tiers
    # ------------------------------------------------------------------

    def test_dates_to_the_second(self):
        """From 09:00:00 to 18:00:00 (UTC) inclusive: not a second before nor after."""
        bonus = self.campaign(
            "bonus",
            bonus_points=5,
            date_start=datetime(2026, 3, 10, 9, 0, 0),
            date_end=datetime(2026, 3, 10, 18, 0, 0),
        )
        order = [self.line(self.croissant, 1, 10.0)]
        expected = {"08:59:59": 0, "09:00:00": 5, "18:00:00": 5, "18:00:01": 0}
        for moment, points in expected.items():
            with self.subTest(moment=moment), self.at(f"2026-03-10 {moment}"):
                rows = self.earn(order)
                self.assertEqual(self.bonus_of(rows, bonus), points)
                if points:
                    self.assertEqual(rows.filtered("campaign_id").transaction_type, "bonus")
        self.assertCard(points=4 * 10 + 10)

    def test_weekday_in_the_merchants_time_zone(self):
        """Tuesdays in Luxembourg: Monday 23:30 UTC is already Tuesday there, Tuesday 23:30 UTC
        is Wednesday."""
        bonus = self.campaign("bonus", bonus_points=5, tuesday=True)
        order = [self.line(self.croissant, 1, 10.0)]
        expected = {
            "2026-03-09 12:00:00": 0,  # Monday
            "2026-03-09 23:30:00": 5,  # Tuesday 00:30 in Luxembourg
            TUESDAY: 5,
            "2026-03-10 23:30:00": 0,  # Wednesday 00:30 in Luxembourg
            "2026-03-11 12:00:00": 0,
        }
        for moment, points in expected.items():
            with self.subTest(moment=moment), self.at(moment):
                self.assertEqual(self.bonus_of(self.earn(order), bonus), points)
        self.assertCard(points=50 + 10)

    def test_hours_in_the_merchants_time_zone(self):
        """From 14:00 to 17:00 in Luxembourg (13:00 to 16:00 UTC in March): 13:59 no, 14:00
        yes, 16:59 yes, 17:00 no; in summer time the same local hours."""
        bonus = self.campaign("bonus", bonus_points=5, hour_from=14, hour_to=17)
        order = [self.line(self.croissant, 1, 10.0)]
        expected = {
            "2026-03-10 12:59:00": 0,
            "2026-03-10 13:00:00": 5,
            "2026-03-10 15:59:00": 5,
            "2026-03-10 16:00:00": 0,
            "2026-07-07 11:59:00": 0,  # 13:59 summer time
            "2026-07-07 12:00:00": 5,
        }
        for moment, points in expected.items():
            with self.subTest(moment=moment), self.at(moment):
                self.assertEqual(self.bonus_of(self.earn(order), bonus), points)

    def test_shops(self):
        """A campaign of the Kirchberg branch: not at the merchant's own shop."""
        bonus = self.campaign("bonus", bonus_points=5, shop_ids=[self.branch.id])
        order = [self.line(self.croissant, 1, 10.0)]
        self.assertFalse(self.bonus_of(self.earn(order, shop=self.merchant), bonus))
        rows = self.earn(order, shop=self.branch)
        self.assertEqual(self.bonus_of(rows, bonus), 5)
        self.assertEqual(rows.shop_id, self.branch)
        self.assertCard(points=25)

    def test_tiers(self):
        """A campaign for Gold members: not for a member without a tier, then yes."""
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 100, "multiplier": 1.0}
        )
        bonus = self.campaign("bonus", bonus_points=5, tier_ids=[gold.id])
        self.assertFalse(self.bonus_of(self.earn([self.line(self.croissant, 1, 100.0)]), bonus))
        self.card.invalidate_recordset()
        self.assertEqual(self.card.tier_id, gold)  # 100 points earned: Gold from now on
        self.assertEqual(self.bonus_of(self.earn([self.line(self.croissant, 1, 10.0)]), bonus), 5)
        self.assertCard(points=115)

    # ------------------------------------------------------------------
    # effects
    # ------------------------------------------------------------------

    def test_multiplier_on_points_and_stamps(self):
        """x2 points: the order's points again, in a row naming the campaign; x2 stamps: the
        rules' stamps again."""
        visit = self.rule("stamps_visit")
        double_points = self.campaign("multiplier", multiplier=2, apply_to="points")
        rows = self.earn([self.line(self.croissant, 1, 10.0)])
        self.assertEqual(
            self.effects(rows),
            sorted(
                [
                    ("points_earned", False, False, 0, 10, 0.0),
                    ("stamp_earned", visit.id, False, 1, 0, 0.0),
                    ("bonus", False, double_points.id, 0, 10, 0.0),
                ]
            ),
        )
        self.assertCard(stamps=1, points=20)
        double_points.active = False
        double_stamps = self.campaign("multiplier", multiplier=2, apply_to="stamps")
        rows = self.earn([self.line(self.croissant, 1, 10.0)])
        self.assertEqual(
            self.effects(rows),
            sorted(
                [
                    ("points_earned", False, False, 0, 10, 0.0),
                    ("stamp_earned", visit.id, False, 1, 0, 0.0),
                    ("stamp_earned", False, double_stamps.id, 1, 0, 0.0),
                ]
            ),
        )
        self.assertCard(stamps=3, points=30)

    def test_bonus_points_and_stamps(self):
        """+7 points and +2 stamps on an order, each in a row naming the campaign."""
        self.rule("stamps_visit")
        bonus = self.campaign("bonus", bonus_points=7, bonus_stamps=2)
        rows = self.earn([self.line(self.croissant, 1, 3.0)])
        self.assertIn(("bonus", False, bonus.id, 0, 7, 0.0), self.effects(rows))
        self.assertIn(("stamp_earned", False, bonus.id, 2, 0, 0.0), self.effects(rows))
        self.assertCard(stamps=3, points=10)
        # a campaign's minimum spend
        bonus.minimum_amount = 5
        self.assertFalse(self.earn([self.line(self.croissant, 1, 3.0)]).filtered("campaign_id"))
        self.assertEqual(len(self.earn([self.line(self.croissant, 1, 5.0)]).filtered("campaign_id")), 2)

    def test_campaign_on_a_product(self):
        """A campaign of the coffee category: only for an order that holds a coffee."""
        bonus = self.campaign("bonus", bonus_points=5, category_ids=[self.drinks.id])
        self.assertFalse(self.bonus_of(self.earn([self.line(self.croissant, 1, 10.0)]), bonus))
        self.assertEqual(self.bonus_of(self.earn([self.line(self.espresso, 1, 2.0)]), bonus), 5)

    def test_first_visit_of_the_month(self):
        """The first earning of each month in Luxembourg gets the bonus, the second not; 31 March
        23:30 UTC is already April there."""
        welcome = self.campaign("first_visit_month", bonus_points=10)
        order = [self.line(self.croissant, 1, 2.0)]
        expected = {
            "2026-03-10 09:00:00": 10,
            "2026-03-12 09:00:00": 0,
            "2026-03-31 21:30:00": 0,  # 23:30 in Luxembourg (summer time)
            "2026-03-31 23:30:00": 10,  # 1 April, 01:30 in Luxembourg
            "2026-04-02 09:00:00": 0,
            "2026-05-01 09:00:00": 10,
        }
        for moment, points in expected.items():
            with self.subTest(moment=moment), self.at(moment):
                self.assertEqual(self.bonus_of(self.earn(order), welcome), points)
        self.assertCard(points=6 * 2 + 30)

    def test_best_campaign_only(self):
        """Best-only stacking: of +5 and x2 on €10, the x2 (+10) alone."""
        bonus = self.campaign("bonus", bonus_points=5)
        double = self.campaign("multiplier", multiplier=2)
        rows = self.earn([self.line(self.croissant, 1, 10.0)])
        self.assertEqual(self.bonus_of(rows, double), 10)
        self.assertFalse(rows.filtered(lambda r: r.campaign_id == bonus))
        self.assertCard(points=20)

    def test_additive_campaigns_with_a_cap(self):
        """Additive stacking: +5 and x2 on €10 add up to 15; with a cap of 12, to 12."""
        self.program.campaign_stacking = "additive"
        bonus = self.campaign("bonus", bonus_points=5, sequence=2)
        double = self.campaign("multiplier", multiplier=2, sequence=1)
        rows = self.earn([self.line(self.croissant, 1, 10.0)])
        self.assertEqual((self.bonus_of(rows, double), self.bonus_of(rows, bonus)), (10, 5))
        self.assertCard(points=25)
        self.program.campaign_bonus_cap = 12
        rows = self.earn([self.line(self.croissant, 1, 10.0)])
        self.assertEqual((self.bonus_of(rows, double), self.bonus_of(rows, bonus)), (10, 2))
        self.assertCard(points=47)

    def test_cap_of_uses_overall(self):
        """At most 2 orders in all: the third gets nothing, whoever the member."""
        bonus = self.campaign("bonus", bonus_points=5, max_uses=2)
        order = [self.line(self.croissant, 1, 1.0)]
        self.assertEqual(self.bonus_of(self.earn(order), bonus), 5)
        self.assertEqual(self.bonus_of(self.earn(order, card=self.card2), bonus), 5)
        self.assertEqual(bonus.use_count, 2)
        self.assertEqual(self.bonus_of(self.earn(order), bonus), 0)
        self.assertEqual(self.bonus_of(self.earn(order, card=self.card2), bonus), 0)
        self.assertEqual(bonus.use_count, 2)
        self.assertCard(points=7)
        self.assertCard(card=self.card2, points=7)

    def test_cap_of_uses_per_member(self):
        """Once per member: the second order of a member nothing, another member's first yes."""
        bonus = self.campaign("bonus", bonus_points=5, max_uses_per_member=1)
        order = [self.line(self.croissant, 1, 1.0)]
        self.assertEqual(self.bonus_of(self.earn(order), bonus), 5)
        self.assertEqual(self.bonus_of(self.earn(order), bonus), 0)
        self.assertEqual(self.bonus_of(self.earn(order, card=self.card2), bonus), 5)
        self.assertCard(points=7)

    def test_cap_per_member_without_order_reference(self):
        """An earning without order reference counts against the member's cap too."""
        bonus = self.campaign("bonus", bonus_points=5, max_uses_per_member=1)
        order = [self.line(self.croissant, 1, 1.0)]
        first = self.card._earn_order(order, self.merchant)
        second = self.card._earn_order(order, self.merchant)
        self.assertEqual((self.bonus_of(first, bonus), self.bonus_of(second, bonus)), (5, 0))

    def test_replayed_order_earns_once(self):
        """The same order reference again: the first rows, nothing more, no use counted."""
        self.rule("stamps_visit")
        bonus = self.campaign("bonus", bonus_points=5, max_uses=10)
        order = [self.line(self.croissant, 1, 10.0)]
        rows = self.earn(order, ref="REPLAY")
        self.assertCard(stamps=1, points=15)
        again = self.earn(order, ref="REPLAY")
        self.assertEqual(again, rows)
        self.assertTrue(again.env.context.get("loyalty_plus_replayed"))
        self.assertEqual(bonus.use_count, 1)
        self.assertCard(stamps=1, points=15)
        # another card with the same order reference is refused
        self.assertEqual(
            self.refusal_code(lambda: self.earn(order, card=self.card2, ref="REPLAY")), "order_already_used"
        )
        self.assertCard(card=self.card2)

    def test_each_row_names_its_rule_or_campaign(self):
        """Every row of an order names its rule or campaign, except the program's base rate."""
        visit = self.rule("stamps_visit")
        rate = self.rule("points_spend", points_per_euro=2, product_ids=[self.espresso.id])
        bonus = self.campaign("bonus", bonus_points=3, bonus_stamps=1)
        rows = self.earn([self.line(self.espresso, 1, 2.0), self.line(self.croissant, 1, 2.0)])
        self.assertEqual(
            {(r.transaction_type, r.earning_rule_id, r.campaign_id, r.note) for r in rows},
            {
                (
                    "points_earned",
                    self.env["loyalty_plus.earning_rule"],
                    self.env["loyalty_plus.campaign"],
                    "Points per euro",
                ),
                ("points_earned", rate, self.env["loyalty_plus.campaign"], rate.name),
                ("stamp_earned", visit, self.env["loyalty_plus.campaign"], visit.name),
                ("bonus", self.env["loyalty_plus.earning_rule"], bonus, bonus.name),
                ("stamp_earned", self.env["loyalty_plus.earning_rule"], bonus, bonus.name),
            },
        )
        self.assertEqual(set(rows.mapped("order_ref")), {rows[0].order_ref})
        self.assertCard(stamps=2, points=9)

    # ------------------------------------------------------------------
    # discount promotions
    # ------------------------------------------------------------------

    def refusal_code(self, call):
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            call()
        return caught.exception.code

    def test_promotion_values(self):
        """10 % off, €5 off (at most the order), a free croissant."""
        order = [self.line(self.espresso, 1, 3.0)]
        percent = self.campaign("discount", discount_type="percent", discount_value=10)
        fixed = self.campaign("discount", discount_type="fixed", discount_value=5)
        free = self.campaign("discount", discount_type="product", discount_product_id=self.croissant.id)
        self.assertEqual(
            {k: v for k, v in percent._check_promotion(self.card, order, self.merchant).items() if k != "description"},
            {"campaign_id": percent.id, "kind": "percent", "percent": 10.0, "amount": 0.0, "product_id": False},
        )
        self.assertEqual(fixed._check_promotion(self.card, order, self.merchant)["amount"], 3.0)
        self.assertEqual(
            fixed._check_promotion(self.card, [self.line(self.espresso, 3, 9.0)], self.merchant)["amount"], 5.0
        )
        values = free._check_promotion(self.card, order, self.merchant)
        self.assertEqual((values["kind"], values["product_id"]), ("product", self.croissant.id))

    def test_promotion_refusals(self):
        """Minimum spend, product, tier, window, another program's promotion: not applicable."""
        promo = self.campaign("discount", discount_value=10, minimum_amount=20)
        small, big = [self.line(self.espresso, 1, 15.0)], [self.line(self.espresso, 1, 25.0)]
        check = promo._check_promotion
        self.assertEqual(self.refusal_code(lambda: check(self.card, small, self.merchant)), "promotion_not_applicable")
        self.assertEqual(check(self.card, big, self.merchant)["percent"], 10)
        promo.product_ids = self.croissant
        self.assertEqual(self.refusal_code(lambda: check(self.card, big, self.merchant)), "promotion_not_applicable")
        self.assertTrue(check(self.card, [*big, self.line(self.croissant, 1, 2.0)], self.merchant))
        promo.product_ids = False
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 1000}
        )
        promo.tier_ids = gold
        self.assertEqual(self.refusal_code(lambda: check(self.card, big, self.merchant)), "promotion_not_applicable")
        promo.tier_ids = False
        promo.date_end = datetime(2026, 3, 10, 18, 0, 0)
        with self.at("2026-03-10 18:00:00"):
            self.assertTrue(check(self.card, big, self.merchant))
        with self.at("2026-03-10 18:00:01"):
            self.assertEqual(
                self.refusal_code(lambda: check(self.card, big, self.merchant)), "promotion_not_applicable"
            )
        bonus = self.campaign("bonus", bonus_points=5)
        self.assertEqual(
            self.refusal_code(lambda: bonus._check_promotion(self.card, big, self.merchant)), "promotion_not_applicable"
        )

    def test_use_promotion_once_per_order_and_caps(self):
        """A promotion used by an order: one "promotion" row, once; its caps counted."""
        promo = self.campaign("discount", discount_value=10, max_uses=2, max_uses_per_member=1)
        order = [self.line(self.espresso, 1, 5.0)]
        row = self.card._use_promotion(promo, self.merchant, "P-1", order)
        self.assertRecordValues(
            row,
            [
                {
                    "transaction_type": "promotion",
                    "campaign_id": promo.id,
                    "points_delta": 0,
                    "stamps_delta": 0,
                    "order_ref": "P-1",
                }
            ],
        )
        again = self.card._use_promotion(promo, self.merchant, "P-1", order)
        self.assertEqual(again, row)
        self.assertTrue(again.env.context.get("loyalty_plus_replayed"))
        self.assertEqual(promo.use_count, 1)
        # once per member
        self.assertEqual(
            self.refusal_code(lambda: self.card._use_promotion(promo, self.merchant, "P-2", order)),
            "promotion_cap_reached",
        )
        self.card2._use_promotion(promo, self.merchant, "P-3", order)
        self.assertEqual(promo.use_count, 2)
        # twice in all
        promo.max_uses_per_member = 0
        self.assertEqual(
            self.refusal_code(lambda: promo._check_promotion(self.card, order, self.merchant)), "promotion_cap_reached"
        )
        self.assertEqual(
            self.refusal_code(lambda: self.card._use_promotion(promo, self.merchant, "P-4", order)),
            "promotion_cap_reached",
        )
        self.assertCard(points=0)

    # ------------------------------------------------------------------
    # the stamps' own rules: staff approval, cooldown, daily limit
    # ------------------------------------------------------------------

    def test_stamps_without_approval_give_the_points(self):
        """A PIN was needed and not given: the points, no stamps, and a note saying why."""
        self.program.require_staff_pin = True
        self.rule("stamps_visit")
        rows = self.earn([self.line(self.croissant, 1, 4.0)], stamps_approved=False)
        self.assertEqual(self.effects(rows), [("points_earned", False, False, 0, 4, 0.0)])
        self.assertTrue(any("PIN" in note for note in rows.env.context["loyalty_plus_notes"]))
        self.assertCard(points=4)
        result = self.program._compute_earnings(self.card, [self.line(self.croissant, 1, 4.0)], self.merchant)
        self.assertTrue(result["pin_required"])
        self.assertEqual((result["stamps"], result["points"]), (1, 4))

    def test_cooldown(self):
        """30 minutes between stamps: the order 10 minutes later earns its points, no stamp."""
        self.program.stamp_cooldown_minutes = 30
        self.rule("stamps_visit")
        order = [self.line(self.croissant, 1, 2.0)]
        with self.at("2026-03-10 10:00:00"):
            self.earn(order)
        self.assertCard(stamps=1, points=2)
        with self.at("2026-03-10 10:10:00"):
            rows = self.earn(order)
        self.assertEqual(self.effects(rows), [("points_earned", False, False, 0, 2, 0.0)])
        self.assertTrue(rows.env.context["loyalty_plus_notes"])
        with self.at("2026-03-10 10:30:00"):
            self.earn(order)
        self.assertCard(stamps=2, points=6)

    def test_daily_limit_caps_the_count(self):
        """3 stamps a day: 2 coffees, then 2 more give 1; the next day 2 again."""
        self.program.max_stamps_per_day = 3
        item = self.rule("stamps_item", category_ids=[self.coffee.id])
        order = [self.line(self.espresso, 2, 5.0)]
        with self.at("2026-03-10 08:00:00"):
            self.earn(order)
        with self.at("2026-03-10 20:00:00"):
            rows = self.earn(order)
        self.assertIn(("stamp_earned", item.id, False, 1, 0, 0.0), self.effects(rows))
        self.assertEqual(rows.env.context["loyalty_plus_notes"], ("Daily limit: 1 of 2 stamps given today.",))
        self.assertCard(stamps=3, points=10)
        with self.at("2026-03-10 23:30:00"):  # 00:30 on Wednesday in Luxembourg: a new day
            self.earn(order)
        self.assertCard(stamps=5, points=15)

    def test_daily_limit_keeps_the_spend_in_the_bank(self):
        """1 stamp a day, 1 stamp per €10: €35 gives one stamp and €25 stay in the bank."""
        self.program.max_stamps_per_day = 1
        self.program.program_type = "stamps"
        spend = self.rule("stamps_spend", spend_step=10)
        with self.at(TUESDAY):
            rows = self.earn([self.line(self.croissant, 1, 35.0)])
        self.assertEqual(self.effects(rows), [("stamp_earned", spend.id, False, 1, 0, 25.0)])
        self.assertCard(stamps=1, bank=25.0)
        with self.at("2026-03-11 12:00:00"):
            self.earn([self.line(self.croissant, 1, 5.0)])
        self.assertCard(stamps=2, bank=20.0)

    # ------------------------------------------------------------------
    # running campaigns by time alone
    # ------------------------------------------------------------------

    def test_active_campaigns_switch_by_time(self):
        """A campaign is active from its start to its end, whatever its stored state; the
        hourly job brings the state in step."""
        with self.at("2026-03-01 00:00:00"):
            campaign = self.campaign(
                "bonus",
                bonus_points=5,
                date_start=datetime(2026, 3, 10, 9, 0, 0),
                date_end=datetime(2026, 3, 10, 18, 0, 0),
            )
            self.assertEqual(campaign.state, "scheduled")
        for moment, active, state in (
            ("2026-03-10 08:59:59", False, "scheduled"),
            ("2026-03-10 09:00:00", True, "running"),
            ("2026-03-10 18:00:00", True, "running"),
            ("2026-03-10 18:00:01", False, "ended"),
        ):
            with self.subTest(moment=moment), self.at(moment):
                self.assertEqual(bool(self.program._get_active_campaigns(self.merchant)), active)
                self.env["loyalty_plus.campaign"]._cron_update_state()
                self.assertEqual(campaign.state, state)

    def test_active_campaigns_of_a_shop_and_a_tier(self):
        """The till's "active now": the shop's campaigns, a tier's only with the member's card."""
        gold = self.env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": self.program.id, "threshold_points": 10}
        )
        everyone = self.campaign("bonus", bonus_points=1)
        branch_only = self.campaign("bonus", bonus_points=1, shop_ids=[self.branch.id])
        gold_only = self.campaign("bonus", bonus_points=1, tier_ids=[gold.id])
        tuesdays = self.campaign("bonus", bonus_points=1, tuesday=True)
        with self.at(TUESDAY):
            self.assertEqual(self.program._get_active_campaigns(self.merchant), everyone | tuesdays)
            self.assertEqual(self.program._get_active_campaigns(self.branch), everyone | branch_only | tuesdays)
            self.earn([self.line(self.croissant, 1, 10.0)])  # Gold
            self.assertEqual(
                self.program._get_active_campaigns(self.merchant, card=self.card), everyone | gold_only | tuesdays
            )
        with self.at("2026-03-11 12:00:00"):
            self.assertEqual(self.program._get_active_campaigns(self.merchant), everyone)


@tagged("post_install", "-at_install")
class TestCampaignCapRace(CommittedDataCase):
    """Two tills, two members, the last use of a capped campaign at the same instant: one gets it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env, "Campaign race", program_type="points", points_per_euro=1, minimum_purchase=0
            )
            campaign = env["loyalty_plus.campaign"].create(
                {
                    "program_id": program.id,
                    "name": "Last one",
                    "campaign_type": "bonus",
                    "bonus_points": 50,
                    "max_uses": 1,
                }
            )
            partners = env["res.partner"].create([{"name": "Racer A"}, {"name": "Racer B"}])
            cards = env["loyalty_plus.card"].create(
                [{"partner_id": partner.id, "program_id": program.id} for partner in partners]
            )
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "campaign": campaign.id,
                "partners": partners.ids,
                "cards": cards.ids,
            }

    @classmethod
    def tearDownClass(cls):
        with cls.registry.cursor() as cr:
            remove_committed_merchant(cr, cls.ids["company"], cls.ids["program"], cls.ids["partners"])
        super().tearDownClass()

    def test_last_use_goes_to_one_order(self):
        barrier = threading.Barrier(2)
        outcomes = []

        def till(card_id, ref):
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SELECT 1")  # the snapshot opens before the race
                    barrier.wait(timeout=10)
                    for _attempt in range(5):  # as the server retries an RPC on a serialization failure
                        cr.transaction = Transaction(self.registry)
                        env = api.Environment(cr, api.SUPERUSER_ID, {})
                        card = env["loyalty_plus.card"].browse(card_id)
                        try:
                            rows = card._earn_order(
                                [{"product_id": False, "qty": 1, "price_incl": 10.0, "price_excl": 10.0}],
                                env["res.company"].browse(self.ids["company"]),
                                order_ref=ref,
                            )
                            bonus = sum(rows.filtered("campaign_id").mapped("points_delta"))
                            cr.commit()  # pylint: disable=invalid-commit  # each till is its own transaction
                            outcomes.append(("ok", bonus))
                            break
                        except UserError as e:
                            cr.rollback()
                            outcomes.append(("refused", str(e)))
                            break
                        except SerializationFailure:
                            cr.rollback()
                            time.sleep(0.05)
            except Exception as e:  # reported by the assertion below
                outcomes.append(("error", repr(e)))

        threads = [
            threading.Thread(target=till, args=(card_id, f"RACE-{i}")) for i, card_id in enumerate(self.ids["cards"])
        ]
        with mute_logger("odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        self.assertEqual(sorted(outcomes), [("ok", 0), ("ok", 50)], outcomes)
        with self.registry.cursor() as cr:
            cr.execute("SELECT use_count FROM loyalty_plus_campaign WHERE id = %s", [self.ids["campaign"]])
            self.assertEqual(cr.fetchone()[0], 1)
            cr.execute(
                "SELECT count(*), sum(points_delta) FROM loyalty_plus_transaction WHERE campaign_id = %s",
                [self.ids["campaign"]],
            )
            self.assertEqual(cr.fetchone(), (1, 50))
