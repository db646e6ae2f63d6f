import re
from contextlib import contextmanager

from odoo.tests import tagged

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestCatalogCache(LoyaltyPlusCase):
    """Every lookup and till operation reads the program, its rewards and its tiers: each worker
    keeps a copy (``program._prefetch_catalog``), which every change of them must replace."""

    def summary(self):
        """The card's summary as a new request sees it: nothing in the ORM cache."""
        self.env.invalidate_all()
        card = self.env["loyalty_plus.card"]._get_by_query(self.card.card_number, self.bakery)
        return card._get_summary()

    def reward_row(self, summary, reward):
        return next((row for row in summary["rewards"] if row["id"] == reward.id), None)

    def test_lookup_reads_only_the_card_and_its_holder(self):
        self.card._earn(20, self.bakery, order_ref="CATALOG-1")
        self.summary()  # fills the worker's copy
        self.env.invalidate_all()
        with contextmanager(self._patchExecute)([]) as queries:
            card = self.env["loyalty_plus.card"]._get_by_query(self.card.card_number, self.bakery)
            summary = card._get_summary()
        # the program, its rewards and its tiers come from the copy (the user is read by any request)
        tables = {table for query in queries for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', query)}
        self.assertLessEqual(tables, {"loyalty_plus_card", "res_partner", "res_users"})
        # the holder's name comes with the card's own query (every summary names the customer)
        self.assertFalse([query for query in queries if 'FROM "res_partner"' in query], queries)
        self.assertEqual(summary["first_name"], self.card.partner_id.name.split(" ")[0])
        self.assertEqual(summary["points"], self.card.points_balance)
        self.assertEqual(summary["stamps_target"], 3)
        self.assertTrue(self.reward_row(summary, self.reward)["redeemable"])

    def test_changes_of_the_catalog_are_seen_at_once(self):
        self.card._earn(20, self.bakery, order_ref="CATALOG-2")
        self.assertEqual(self.reward_row(self.summary(), self.reward)["points_cost"], 100)

        self.reward.write({"points_cost": 250, "name": "Two croissants"})
        row = self.reward_row(self.summary(), self.reward)
        self.assertEqual((row["points_cost"], row["name"], row["redeemable"]), (250, "Two croissants", False))

        tea = self.env["loyalty_plus.reward"].create(
            {"name": "Tea", "program_id": self.program.id, "points_cost": 30, "reward_kind": "voucher"}
        )
        self.assertEqual([r["id"] for r in self.summary()["rewards"]], [tea.id, self.reward.id])

        tea.action_archive()
        self.assertIsNone(self.reward_row(self.summary(), tea))

        self.program.stamps_target = 7
        self.assertEqual(self.summary()["stamps_target"], 7)

    def test_a_new_tier_applies_to_the_next_earning(self):
        self.summary()  # the copy knows only Silver (500 points)
        self.env["loyalty_plus.tier"].create(
            {"name": "Bronze", "program_id": self.program.id, "threshold_points": 100, "multiplier": 1.0}
        )
        self.env.invalidate_all()
        self.card._earn(15, self.bakery, order_ref="CATALOG-3")  # 150 points
        self.assertEqual(self.summary()["tier"], "Bronze")

    def test_stock_is_read_live(self):
        """Redemptions change a stock without replacing the copy: the stock is never taken from it."""
        self.reward.write({"limited_stock": True, "stock_qty": 1})
        self.card._earn(30, self.bakery, order_ref="CATALOG-4")
        self.assertTrue(self.reward_row(self.summary(), self.reward)["redeemable"])
        self.card._redeem_reward(self.reward, self.bakery)
        self.assertFalse(self.reward_row(self.summary(), self.reward))  # out of stock: not offered
        refusal = self.refusal_of(lambda: self.card._redeem_reward(self.reward, self.bakery))
        self.assertEqual(refusal.code, "reward_unavailable")

    def test_an_archived_program_refuses_at_once(self):
        self.summary()
        self.program.action_archive()
        self.env.invalidate_all()
        card = self.env["loyalty_plus.card"].with_context(active_test=False).browse(self.card.id)
        refusal = self.refusal_of(lambda: card._stamp(self.bakery))
        self.assertEqual(refusal.code, "program_inactive")
