from odoo.fields import Command
from odoo.tests import tagged

from .common import LoyaltyPlusPosCommon


@tagged("post_install", "-at_install")
class TestReportRevenue(LoyaltyPlusPosCommon):
    """The POS revenue of members and of other customers, from known orders, as the merchant's manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_pos_config.with_user(cls.pos_user).open_ui()
        cls.session = cls.main_pos_config.current_session_id
        cls.regular = cls.env["res.partner"].create({"name": "Regular Non-member"})
        cls.loyalty_manager = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Shop Loyalty Manager",
                    "login": "lp_revenue_manager",
                    "company_id": cls.shop.id,
                    "company_ids": [Command.set(cls.shop.ids)],
                    "group_ids": [
                        Command.set(
                            [
                                cls.env.ref("base.group_user").id,
                                cls.env.ref("loyalty_plus.group_loyalty_plus_manager").id,
                            ]
                        )
                    ],
                }
            )
        )

    def _order(self, amount, state="paid", card=None, partner=None, tax=0.0):
        return self.env["pos.order"].create(
            {
                "session_id": self.session.id,
                "state": state,
                "lp_card_id": card.id if card else False,
                "partner_id": (partner or (card and card.partner_id)).id if (partner or card) else False,
                "amount_total": amount,
                "amount_tax": tax,
                "amount_paid": amount,
                "amount_return": 0,
            }
        )

    def test_members_and_others(self):
        self._order(10.0, card=self.card, tax=1.0)
        self._order(30.0, card=self.card, tax=3.0)
        self._order(20.0, card=self.rich_card)
        self._order(15.0, partner=self.regular)
        self._order(25.0, partner=self.regular)
        self._order(5.0)  # anonymous
        self._order(100.0, state="draft", card=self.card)  # not paid: not revenue
        self._order(70.0, state="cancel")
        env = self.env(user=self.loyalty_manager, context={"allowed_company_ids": self.shop.ids})
        groups = env["loyalty_plus.report.revenue"].formatted_read_group(
            [("shop_id", "=", self.shop.id)],
            ["customer_type"],
            ["revenue:sum", "revenue_untaxed:sum", "__count", "customer_key:count_distinct", "basket:avg"],
        )
        self.assertEqual(
            {
                g["customer_type"]: (
                    g["revenue:sum"],
                    g["revenue_untaxed:sum"],
                    g["__count"],
                    g["customer_key:count_distinct"],
                    g["basket:avg"],
                )
                for g in groups
            },
            {
                # Lea twice and Rich once: 3 orders of 2 members, 20.00 on average
                "member": (60.0, 56.0, 3, 2, 20.0),
                # the regular twice and one anonymous order: one named customer
                "other": (45.0, 45.0, 3, 1, 15.0),
            },
        )
        # per shop and month, as the default graph reads it
        by_month = env["loyalty_plus.report.revenue"].formatted_read_group(
            [("shop_id", "=", self.shop.id)], ["date:month", "customer_type"], ["revenue:sum"]
        )
        self.assertEqual(sorted(g["revenue:sum"] for g in by_month), [45.0, 60.0])
        # the merchant's manager reads the rows of their own merchant only
        self.assertEqual(set(env["loyalty_plus.report.revenue"].search([]).mapped("company_id.id")), {self.shop.id})
        other_merchant = self.env["res.company"].create({"name": "Other merchant"})
        other = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Other Merchant Manager",
                    "login": "lp_other_revenue_manager",
                    "company_id": other_merchant.id,
                    "company_ids": [Command.set(other_merchant.ids)],
                    "group_ids": [
                        Command.set(
                            [
                                self.env.ref("base.group_user").id,
                                self.env.ref("loyalty_plus.group_loyalty_plus_manager").id,
                            ]
                        )
                    ],
                }
            )
        )
        other_env = self.env(user=other, context={"allowed_company_ids": other.company_id.ids})
        self.assertFalse(other_env["loyalty_plus.report.revenue"].search([]))
