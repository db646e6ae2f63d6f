import uuid
from contextlib import contextmanager

from freezegun import freeze_time

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .test_api_http import LoyaltyPlusApiHttpCase


class EarningCase(TransactionCase):
    """A roastery in Luxembourg (a branch in Kirchberg) with a stamps-and-points program and no
    rule of its own: each test writes the rules and campaigns it is about, earns orders at frozen
    times and reads the ledger rows and the card's balances."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        enterprise = cls.env.ref("loyalty_plus.plan_enterprise")
        Company = cls.env["res.company"].with_context(default_loyalty_plus_plan_id=enterprise.id)
        cls.merchant = Company.create({"name": "Test Roastery", "currency_id": cls.env.ref("base.EUR").id})
        cls.merchant.partner_id.tz = "Europe/Luxembourg"
        cls.branch = Company.create({"name": "Test Roastery Kirchberg", "parent_id": cls.merchant.id})
        cls.program = cls.env["loyalty_plus.program"].create(
            {
                "name": "Roastery Rewards",
                "company_id": cls.merchant.id,
                "program_type": "hybrid",
                "stamps_target": 10,
                "points_per_euro": 1,
                "minimum_purchase": 0,
                "welcome_bonus_points": 0,
                "stamp_cooldown_minutes": 0,
                "max_stamps_per_day": 0,
                "require_staff_pin": False,
            }
        )
        cls.program.earning_rule_ids.unlink()  # the first rule of a new program: the tests write theirs
        Category = cls.env["product.category"]
        cls.drinks = Category.create({"name": "Test drinks"})
        cls.coffee = Category.create({"name": "Test coffee", "parent_id": cls.drinks.id})
        cls.pastry = Category.create({"name": "Test pastry"})
        Product = cls.env["product.product"]
        cls.espresso = Product.create({"name": "Test espresso", "categ_id": cls.coffee.id})
        cls.tea = Product.create({"name": "Test tea", "categ_id": cls.drinks.id})
        cls.croissant = Product.create({"name": "Test croissant", "categ_id": cls.pastry.id})
        cls.gift_card = Product.create({"name": "Test gift card", "type": "service", "lp_earning_excluded": True})
        Partner = cls.env["res.partner"]
        cls.card = cls.env["loyalty_plus.card"].create(
            {"partner_id": Partner.create({"name": "Ines Roth"}).id, "program_id": cls.program.id}
        )
        cls.card2 = cls.env["loyalty_plus.card"].create(
            {"partner_id": Partner.create({"name": "Paul Klein"}).id, "program_id": cls.program.id}
        )

    def setUp(self):
        super().setUp()
        # The ledger dates its rows with the transaction's time, which a test's single transaction
        # would freeze at its start: dated with the frozen clock, like a request at that time.
        self.patch(self.env.cr, "now", fields.Datetime.now)
        self.order_seq = 0

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def rule(self, rule_type, **values):
        return self.env["loyalty_plus.earning_rule"].create(
            {"program_id": self.program.id, "name": rule_type, "rule_type": rule_type, **values}
        )

    def campaign(self, campaign_type, **values):
        return self.env["loyalty_plus.campaign"].create(
            {"program_id": self.program.id, "name": campaign_type, "campaign_type": campaign_type, **values}
        )

    @staticmethod
    def line(product, qty=1, incl=0.0, excl=None):
        return {
            "product_id": product.id if product else False,
            "qty": qty,
            "price_incl": incl,
            "price_excl": incl if excl is None else excl,
        }

    def earn(self, lines, card=None, shop=None, ref=None, **kwargs):
        """``card`` (default: the test's card) earns an order of ``lines`` in ``shop``; its rows."""
        self.order_seq += 1
        card = card or self.card
        return card._earn_order(lines, shop or self.merchant, order_ref=ref or f"ORD-{self.order_seq}", **kwargs)

    @contextmanager
    def at(self, when):
        with freeze_time(when):
            yield

    def rows_of(self, ref, card=None):
        return (
            self.env["loyalty_plus.transaction"]
            .sudo()
            .search([("card_id", "=", (card or self.card).id), ("order_ref", "=", ref)], order="id")
        )

    def effects(self, rows):
        """``rows`` as comparable tuples: (type, rule, campaign, stamps, points, bank)."""
        return sorted(
            (
                row.transaction_type,
                row.earning_rule_id.id or False,
                row.campaign_id.id or False,
                row.stamps_delta,
                row.points_delta,
                round(row.bank_delta, 2),
            )
            for row in rows
        )

    def assertCard(self, card=None, stamps=0, points=0, bank=0.0, fraction=None):
        """The card's balances, and its ledger adding up to them."""
        card = card or self.card
        card.invalidate_recordset()
        rows = self.env["loyalty_plus.transaction"].sudo().search([("card_id", "=", card.id)])
        self.assertEqual(card.stamp_count, stamps, "stamps on the card")
        self.assertEqual(card.points_balance, points, "points on the card")
        self.assertAlmostEqual(card.stamp_bank, bank, places=2, msg="spend bank of the card")
        self.assertEqual(sum(rows.mapped("stamps_delta")), stamps, "stamps of the ledger")
        self.assertEqual(sum(rows.mapped("points_delta")), points, "points of the ledger")
        self.assertAlmostEqual(sum(rows.mapped("bank_delta")), bank, places=2, msg="spend bank of the ledger")
        if fraction is not None:
            self.assertAlmostEqual(card.points_fraction, fraction, places=6, msg="fraction of a point carried")


@tagged("post_install", "-at_install")
class TestEarningRules(EarningCase):
    """Each rule type on the ledger and the card: stamps per visit, per item, per amount spent,
    points per euro, multipliers, exclusions, the tax base; the spend bank and its refunds."""

    # ------------------------------------------------------------------
    # stamps
    # ------------------------------------------------------------------

    def test_stamps_visit_at_the_minimum_spend(self):
        """Below the minimum spend a visit earns no stamp; at exactly the minimum, its stamps."""
        self.program.program_type = "stamps"
        visit = self.rule("stamps_visit", stamps=2, minimum_amount=5)
        self.assertFalse(self.earn([self.line(self.espresso, 1, 4.99)]))
        self.assertCard(stamps=0)
        rows = self.earn([self.line(self.espresso, 1, 5.0)])
        self.assertEqual(self.effects(rows), [("stamp_earned", visit.id, False, 2, 0, 0.0)])
        self.assertCard(stamps=2)
        # the order's eligible amount: two lines together reach the minimum
        rows = self.earn([self.line(self.espresso, 1, 2.5), self.line(self.croissant, 1, 2.5)])
        self.assertEqual(self.effects(rows), [("stamp_earned", visit.id, False, 2, 0, 0.0)])
        self.assertCard(stamps=4)

    def test_stamps_per_item_counts_whole_quantities(self):
        """Two coffees earn two stamps, 1.5 kg of coffee one; other products none."""
        self.program.program_type = "stamps"
        item = self.rule("stamps_item", product_ids=[self.espresso.id])
        rows = self.earn([self.line(self.espresso, 2, 5.0), self.line(self.croissant, 3, 6.0)])
        self.assertEqual(self.effects(rows), [("stamp_earned", item.id, False, 2, 0, 0.0)])
        self.assertCard(stamps=2)
        rows = self.earn([self.line(self.espresso, 1.5, 3.75)])
        self.assertEqual(self.effects(rows), [("stamp_earned", item.id, False, 1, 0, 0.0)])
        self.assertCard(stamps=3)
        self.assertFalse(self.earn([self.line(self.croissant, 4, 8.0)]))
        self.assertCard(stamps=3)

    def test_stamps_per_item_of_a_category_and_its_subcategories(self):
        """A rule on "drinks" counts the tea (drinks) and the espresso (coffee, under drinks)."""
        self.program.program_type = "stamps"
        item = self.rule("stamps_item", stamps=1, category_ids=[self.drinks.id])
        rows = self.earn(
            [self.line(self.espresso, 2, 5.0), self.line(self.tea, 1, 3.0), self.line(self.croissant, 1, 2.0)]
        )
        self.assertEqual(self.effects(rows), [("stamp_earned", item.id, False, 3, 0, 0.0)])
        self.assertCard(stamps=3)

    # ------------------------------------------------------------------
    # points
    # ------------------------------------------------------------------

    def test_points_per_euro_on_the_order(self):
        """Without rules, the program's rate on every line, in one row; the fraction carried."""
        self.program.points_per_euro = 2
        rows = self.earn([self.line(self.espresso, 1, 4.25), self.line(self.croissant, 2, 3.0)])
        self.assertEqual(self.effects(rows), [("points_earned", False, False, 0, 14, 0.0)])
        self.assertEqual(rows.amount, 7.25)
        self.assertCard(points=14, fraction=0.5)

    def test_points_per_euro_of_a_category_replaces_the_rate(self):
        """Coffee at 3 points per euro (its own row, naming the rule), the rest at the base rate."""
        rate = self.rule("points_spend", points_per_euro=3, category_ids=[self.coffee.id])
        rows = self.earn([self.line(self.espresso, 2, 4.0), self.line(self.croissant, 1, 2.0)])
        self.assertEqual(
            self.effects(rows),
            [("points_earned", False, False, 0, 2, 0.0), ("points_earned", rate.id, False, 0, 12, 0.0)],
        )
        self.assertEqual(rows.filtered("earning_rule_id").amount, 4.0)
        self.assertCard(points=14)

    def test_points_multiplier_by_product_and_by_category(self):
        """The multiplier's extra points in a row of the multiplier's, the best multiplier of a line."""
        by_product = self.rule("points_multiplier", multiplier=2, product_ids=[self.croissant.id])
        by_category = self.rule("points_multiplier", multiplier=3, category_ids=[self.drinks.id])
        rows = self.earn(
            [self.line(self.croissant, 1, 3.0), self.line(self.espresso, 1, 2.0), self.line(self.gift_card, 1, 20.0)]
        )
        self.assertEqual(
            self.effects(rows),
            sorted(
                [
                    ("points_earned", False, False, 0, 5, 0.0),  # 3 + 2 at the base rate
                    ("points_earned", by_product.id, False, 0, 3, 0.0),  # croissant x2: +3
                    ("points_earned", by_category.id, False, 0, 4, 0.0),  # espresso x3: +4
                ]
            ),
        )
        self.assertCard(points=12)

    def test_excluded_product_earns_nothing(self):
        """A gift card earns no visit, no item stamp, no spend, no points; next to a coffee, the
        coffee earns alone."""
        visit = self.rule("stamps_visit")
        item = self.rule("stamps_item")
        spend = self.rule("stamps_spend", spend_step=10)
        self.assertFalse(self.earn([self.line(self.gift_card, 1, 50.0)]))
        self.assertCard()
        rows = self.earn([self.line(self.gift_card, 2, 100.0), self.line(self.espresso, 1, 2.5)])
        self.assertEqual(
            self.effects(rows),
            sorted(
                [
                    ("points_earned", False, False, 0, 2, 0.0),
                    ("stamp_earned", visit.id, False, 1, 0, 0.0),
                    ("stamp_earned", item.id, False, 1, 0, 0.0),
                    ("stamp_progress", spend.id, False, 0, 0, 2.5),
                ]
            ),
        )
        self.assertCard(stamps=2, points=2, bank=2.5, fraction=0.5)

    def test_tax_base_included_or_excluded(self):
        """The same order counted with or without its tax: points and the visit's minimum."""
        visit = self.rule("stamps_visit", minimum_amount=10.5)
        order = [self.line(self.espresso, 2, 11.0, 10.0)]
        rows = self.earn(order)
        self.assertEqual(
            self.effects(rows),
            [("points_earned", False, False, 0, 11, 0.0), ("stamp_earned", visit.id, False, 1, 0, 0.0)],
        )
        self.assertCard(stamps=1, points=11)
        self.program.earning_tax_base = "excluded"
        rows = self.earn(order)
        self.assertEqual(self.effects(rows), [("points_earned", False, False, 0, 10, 0.0)])
        self.assertEqual(rows.amount, 10.0)
        self.assertCard(stamps=1, points=21)

    def test_preview_is_what_the_order_earns(self):
        """The till's preview (read-only) says what the order then writes, and writes nothing."""
        self.rule("stamps_visit")
        self.rule("stamps_item", category_ids=[self.coffee.id])
        self.rule("stamps_spend", spend_step=50)
        double = self.campaign("multiplier", multiplier=2, apply_to="points")
        double.name = "Double points Tuesday"
        order = [self.line(self.espresso, 2, 6.0), self.line(self.croissant, 1, 6.0)]
        preview = self.program._compute_earnings(self.card, order, self.merchant)
        self.assertEqual(
            {key: preview[key] for key in ("base", "stamps", "points", "stamp_bank", "spend_step", "to_next_stamp")},
            {"base": 12.0, "stamps": 3, "points": 24, "stamp_bank": 12.0, "spend_step": 50.0, "to_next_stamp": 38.0},
        )
        self.assertEqual(preview["summary"], "Earns 3 stamps and 24 points · Double points Tuesday")
        self.assertEqual(preview["campaigns"], [{"id": double.id, "name": "Double points Tuesday"}])
        self.assertCard()
        rows = self.earn(order)
        self.assertEqual(
            (sum(rows.mapped("stamps_delta")), sum(rows.mapped("points_delta"))), (preview["stamps"], preview["points"])
        )
        self.assertEqual(len(rows), len(preview["effects"]))
        self.assertCard(stamps=3, points=24, bank=12.0)

    # ------------------------------------------------------------------
    # the spend bank and the fraction of a point
    # ------------------------------------------------------------------

    def test_spend_bank_carries_to_the_next_stamp(self):
        """1 stamp per €50: €30 then €20 give one stamp and an empty bank."""
        self.program.program_type = "stamps"
        spend = self.rule("stamps_spend", spend_step=50)
        rows = self.earn([self.line(self.croissant, 1, 30.0)])
        self.assertEqual(self.effects(rows), [("stamp_progress", spend.id, False, 0, 0, 30.0)])
        self.assertCard(bank=30.0)
        self.assertEqual(self.card.stamp_bank_to_next, 20.0)
        rows = self.earn([self.line(self.croissant, 1, 20.0)])
        self.assertEqual(self.effects(rows), [("stamp_earned", spend.id, False, 1, 0, -30.0)])
        self.assertCard(stamps=1, bank=0.0)
        self.assertEqual(self.card.stamp_bank_to_next, 50.0)

    def test_spend_bank_many_small_purchases(self):
        """17 purchases of €7.30 (€124.10): two stamps, €24.10 in the bank to the cent."""
        self.program.program_type = "stamps"
        self.rule("stamps_spend", spend_step=50)
        for _i in range(17):
            self.earn([self.line(self.croissant, 1, 7.3)])
        self.assertCard(stamps=2, bank=24.1)
        self.assertEqual(self.card.stamp_bank, 24.1)  # exactly, not 24.099999
        self.assertEqual(self.card.stamp_bank_to_next, 25.9)

    def test_fraction_of_a_point_carries(self):
        """Three purchases of €0.50 at 1 point per euro: the first point on the second."""
        self.program.program_type = "points"
        # a purchase below a whole point is written all the same: its row carries the fraction
        rows = self.earn([self.line(self.croissant, 1, 0.5)])
        self.assertEqual(self.effects(rows), [("points_earned", False, False, 0, 0, 0.0)])
        self.assertCard(points=0, fraction=0.5)
        rows = self.earn([self.line(self.croissant, 1, 0.5)])
        self.assertEqual(self.effects(rows), [("points_earned", False, False, 0, 1, 0.0)])
        self.assertCard(points=1, fraction=0.0)
        self.earn([self.line(self.croissant, 1, 0.5)])
        self.assertCard(points=1, fraction=0.5)
        # then €0.30 + €0.30 + €0.40 at 10 points per euro: 3, 3, 4 points and the half point kept
        self.program.points_per_euro = 10
        for amount in (0.3, 0.3, 0.4):
            self.earn([self.line(self.croissant, 1, amount)])
        self.assertCard(points=11, fraction=0.5)

    def test_fraction_carries_next_to_a_stamp(self):
        """€2.50 then €2.50, a stamp per visit: 2 points then 3 (the half point carried)."""
        self.rule("stamps_visit")
        self.earn([self.line(self.croissant, 1, 2.5)])
        self.assertCard(stamps=1, points=2, fraction=0.5)
        self.earn([self.line(self.croissant, 1, 2.5)])
        self.assertCard(stamps=2, points=5, fraction=0.0)

    # ------------------------------------------------------------------
    # refunds
    # ------------------------------------------------------------------

    def test_refund_of_a_purchase_that_crossed_the_step(self):
        """€30 banked, then €30 more: a stamp and €10 banked; the refund of the second purchase
        takes the stamp back and the bank returns to €30."""
        self.program.program_type = "stamps"
        spend = self.rule("stamps_spend", spend_step=50)
        self.earn([self.line(self.croissant, 1, 30.0)])
        order = [self.line(self.espresso, 1, 30.0)]
        rows = self.earn(order, ref="CROSS")
        self.assertEqual(self.effects(rows), [("stamp_earned", spend.id, False, 1, 0, -20.0)])
        self.assertCard(stamps=1, bank=10.0)
        voided = self.card._void_order_earnings("CROSS", order, [], self.merchant)
        self.assertEqual(self.effects(voided), [("stamp_voided", spend.id, False, -1, 0, 20.0)])
        self.assertEqual(voided.origin_transaction_id, rows)
        self.assertCard(stamps=0, bank=30.0)

    def test_refund_of_a_purchase_within_the_step(self):
        """A refund that does not cross a step gives the bank back only."""
        self.program.program_type = "stamps"
        self.rule("stamps_spend", spend_step=50)
        order = [self.line(self.espresso, 2, 12.0)]
        self.earn(order, ref="SMALL")
        self.assertCard(bank=12.0)
        self.card._void_order_earnings(
            "SMALL", [self.line(self.espresso, 1, 6.0)], [self.line(self.espresso, 1, 6.0)], self.merchant
        )
        self.assertCard(bank=6.0)

    def test_refund_of_item_stamps(self):
        """Three coffees earned three stamps; one returned takes one back, then the two others."""
        self.program.program_type = "stamps"
        self.rule("stamps_item", category_ids=[self.coffee.id])
        self.earn([self.line(self.espresso, 3, 7.5), self.line(self.croissant, 1, 2.0)], ref="ITEMS")
        self.assertCard(stamps=3)
        voided = self.card._void_order_earnings(
            "ITEMS",
            [self.line(self.espresso, 1, 2.5)],
            [self.line(self.espresso, 2, 5.0), self.line(self.croissant, 1, 2.0)],
            self.merchant,
        )
        self.assertEqual(voided.mapped("stamps_delta"), [-1])
        self.assertCard(stamps=2)
        self.card._void_order_earnings(
            "ITEMS", [self.line(self.espresso, 2, 5.0)], [self.line(self.croissant, 1, 2.0)], self.merchant
        )
        self.assertCard(stamps=0)

    def test_refund_takes_the_visit_stamp_back_below_the_minimum(self):
        """A visit from €5: returning €1 of €7 keeps the stamp, returning €3 more takes it back;
        the points go back in proportion."""
        visit = self.rule("stamps_visit", minimum_amount=5)
        order = [self.line(self.espresso, 1, 3.0), self.line(self.croissant, 1, 3.0), self.line(self.tea, 1, 1.0)]
        self.earn(order, ref="VISIT")
        self.assertCard(stamps=1, points=7)
        self.card._void_order_earnings(
            "VISIT",
            [self.line(self.tea, 1, 1.0)],
            [self.line(self.espresso, 1, 3.0), self.line(self.croissant, 1, 3.0)],
            self.merchant,
        )
        self.assertCard(stamps=1, points=6)
        voided = self.card._void_order_earnings(
            "VISIT", [self.line(self.croissant, 1, 3.0)], [self.line(self.espresso, 1, 3.0)], self.merchant
        )
        self.assertIn(("stamp_voided", visit.id, False, -1, 0, 0.0), self.effects(voided))
        self.assertCard(stamps=0, points=3)


@tagged("post_install", "-at_install")
class TestApiEarnLines(LoyaltyPlusApiHttpCase):
    """The API's earn with the order's lines: the program's rules and campaigns on its products,
    points only (stamps stay with the stamp call)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coffee = cls.env["product.category"].create({"name": "Test API coffee"})
        cls.espresso = cls.env["product.product"].create({"name": "Test API espresso", "categ_id": cls.coffee.id})
        cls.gift_card = cls.env["product.product"].create(
            {"name": "Test API gift card", "type": "service", "lp_earning_excluded": True}
        )
        # 20 points per euro on coffee instead of the program's 10
        cls.env["loyalty_plus.earning_rule"].create(
            {
                "program_id": cls.program.id,
                "name": "Coffee x2",
                "rule_type": "points_spend",
                "points_per_euro": 20,
                "category_ids": [cls.coffee.id],
            }
        )

    def earn(self, **params):
        return self.call("earn", card=self.card.card_number, **{"idempotency_key": uuid.uuid4().hex, **params})

    def test_earn_by_lines(self):
        lines = [
            {"product_id": self.espresso.id, "qty": 2, "price_incl": 5.0, "price_excl": 4.6},
            {"product_id": None, "qty": 1, "price_incl": 3.0},
            {"product_id": self.gift_card.id, "qty": 1, "price_incl": 50.0, "price_excl": 50.0},
        ]
        status, body, _r = self.earn(order_ref="API-LINES-1", lines=lines)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["points"], 5 * 20 + 3 * 10)
        rows = self.env["loyalty_plus.transaction"].search([("order_ref", "=", "API-LINES-1")])
        self.assertEqual(sorted(rows.mapped("points_delta")), [30, 100])
        self.assertIn(body["transaction_id"], rows.ids)
        self.assertEqual(rows.mapped("stamps_delta"), [0, 0], "stamps come from the stamp call")
        self.card.invalidate_recordset()
        self.assertEqual((self.card.points_balance, self.card.stamp_count), (20 + 130, 0))
        self.assertEqual(body["card"]["points"], 150)
        # the same order again (another key): the first answer's points, nothing more
        status, body, _r = self.earn(order_ref="API-LINES-1", lines=lines)
        self.assertEqual((status, body["points"], body.get("replayed")), (200, 130, True), body)
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 150)

    def test_void_by_order_ref_of_an_order_earned_by_lines(self):
        """An order earned by lines has a row per rate (coffee at 20, the rest at 10): the void
        by order reference takes back from each, half the order then the rest."""
        lines = [
            {"product_id": self.espresso.id, "qty": 1, "price_incl": 5.0},
            {"product_id": None, "qty": 1, "price_incl": 5.0},
        ]
        status, body, _r = self.earn(order_ref="API-VOID", lines=lines)
        self.assertEqual((status, body["points"]), (200, 150), body)
        status, body, _r = self.call("void", idempotency_key=uuid.uuid4().hex, order_ref="API-VOID", amount=5.0)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["card"]["points"], 20 + 75)
        status, body, _r = self.call("void", idempotency_key=uuid.uuid4().hex, order_ref="API-VOID")
        self.assertEqual(status, 200, body)
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 20)

    def test_void_by_the_returned_lines(self):
        """The espresso (coffee at 20 a euro) comes back, the €5 of other goods stay: the coffee
        rule's 100 points go, the other goods' 50 stay (a void by amount would take 75);
        then the rest. Both lists are asked for, and no amount beside them."""
        espresso = {"product_id": self.espresso.id, "qty": 1, "price_incl": 5.0}
        other = {"product_id": None, "qty": 1, "price_incl": 5.0}
        status, body, _r = self.earn(order_ref="API-VOID-LINES", lines=[espresso, other])
        self.assertEqual((status, body["points"]), (200, 150), body)
        with mute_logger("odoo.http"):
            for params in (
                {"lines": [espresso]},
                {"remaining_lines": [other]},
                {"lines": [espresso], "remaining_lines": [other], "amount": 5.0},
                {"lines": "espresso", "remaining_lines": []},
            ):
                with self.subTest(params=str(params)[:60]):
                    self.assertApiError(
                        self.call("void", idempotency_key=uuid.uuid4().hex, order_ref="API-VOID-LINES", **params),
                        422,
                        "validation_error",
                    )
        status, body, _r = self.call(
            "void",
            idempotency_key=uuid.uuid4().hex,
            order_ref="API-VOID-LINES",
            lines=[espresso],
            remaining_lines=[other],
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(body["card"]["points"], 20 + 50)
        voided = self.env["loyalty_plus.transaction"].browse(body["transaction_id"])
        self.assertEqual((voided.transaction_type, voided.points_delta), ("points_voided", -100))
        status, body, _r = self.call(
            "void", idempotency_key=uuid.uuid4().hex, order_ref="API-VOID-LINES", lines=[other], remaining_lines=[]
        )
        self.assertEqual((status, body["card"]["points"]), (200, 20), body)

    def test_earn_by_lines_with_a_campaign(self):
        campaign = self.env["loyalty_plus.campaign"].create(
            {"program_id": self.program.id, "name": "Double points", "campaign_type": "multiplier", "multiplier": 2}
        )
        status, body, _r = self.earn(order_ref="API-LINES-2", lines=[{"product_id": None, "qty": 1, "price_incl": 4.0}])
        self.assertEqual((status, body["points"]), (200, 80), body)
        bonus = self.env["loyalty_plus.transaction"].search(
            [("order_ref", "=", "API-LINES-2"), ("campaign_id", "=", campaign.id)]
        )
        self.assertEqual(bonus.points_delta, 40)

    def test_earn_by_lines_refusals(self):
        line = {"product_id": None, "qty": 1, "price_incl": 4.0}
        with mute_logger("odoo.http"):
            for params in (
                {"amount": 4.0, "lines": [line]},  # both
                {},  # neither
                {"lines": "4.0"},
                {"lines": [{"qty": 1}]},
                {"lines": [{**line, "discount": 1}]},
                {"lines": [{**line, "product_id": 2**40}]},
                {"lines": [{**line, "qty": True}]},
                {"lines": [{**line, "price_incl": 1e300}]},
                {"lines": [line] * 501},
            ):
                with self.subTest(params=str(params)[:60]):
                    self.assertApiError(self.earn(order_ref=uuid.uuid4().hex, **params), 422, "validation_error")
            # the gift card alone: nothing reaches the program's minimum purchase (€2)
            self.assertApiError(
                self.earn(
                    order_ref="API-GIFT", lines=[{"product_id": self.gift_card.id, "qty": 1, "price_incl": 50.0}]
                ),
                422,
                "below_minimum_purchase",
            )
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 20)
