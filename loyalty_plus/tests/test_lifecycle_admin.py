import base64
import json

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import tagged

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestLifecycleAdmin(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_user = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Loyalty Admin",
                    "login": "lp_life_admin",
                    "company_id": cls.bakery.id,
                    "company_ids": [Command.set((cls.bakery | cls.branch_esch | cls.branch_diff).ids)],
                    "group_ids": [
                        Command.set(
                            [cls.env.ref("base.group_user").id, cls.env.ref("loyalty_plus.group_loyalty_plus_admin").id]
                        )
                    ],
                }
            )
        )
        cls.card._apply_ledger(
            {"transaction_type": "points_earned", "points_delta": 70, "shop_id": cls.bakery.id, "order_ref": "A1"}
        )
        cls.card2 = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.partner2.id, "program_id": cls.program.id, "shop_id": cls.bakery.id}
        )

    # ---------------------------------------------------------------- GDPR

    def test_export_member_data(self):
        self.partner.birthday = "1990-04-02"
        data = self.partner._loyalty_plus_export_data()
        self.assertEqual(data["customer"]["email"], "lea@example.com")
        self.assertEqual(data["customer"]["birthday"], "1990-04-02")
        (card,) = data["cards"]
        self.assertEqual(card["card_number"], self.card.card_number)
        self.assertEqual(card["points"], 90)
        self.assertEqual([tx["points"] for tx in card["transactions"]], [20, 70])
        json.dumps(data)  # JSON-ready
        # backend download, for managers only
        action = self.as_user(self.card, self.manager).action_export_member_data()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertEqual(json.loads(base64.b64decode(attachment.datas))["cards"][0]["points"], 90)
        with self.assertRaises(AccessError):
            self.as_user(self.partner, self.cashier).action_loyalty_plus_export()

    def test_anonymize_keeps_ledger_and_logs_admin(self):
        self.card.marketing_consent = True
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE loyalty_plus_transaction SET request_ip = '10.0.0.1' WHERE card_id = %s", [self.card.id]
        )
        rows_before = self.card.transaction_ids
        with self.assertRaises(AccessError):
            self.as_user(self.partner, self.manager).action_loyalty_plus_anonymize()
        self.as_user(self.partner, self.admin_user).action_loyalty_plus_anonymize()
        self.partner.invalidate_recordset()
        self.assertFalse(self.partner.email)
        self.assertFalse(self.partner.phone)
        self.assertNotIn("Lea", self.partner.name)
        self.assertFalse(self.partner.active)
        card = self.card.with_context(active_test=False)
        self.assertNotEqual(card.partner_id, self.partner, "the card no longer points to the customer")
        self.assertNotIn("Lea", card.partner_id.name)
        self.assertFalse(card.marketing_consent)
        self.assertEqual(card.transaction_ids, rows_before, "the ledger keeps its rows")
        self.assertEqual(card.points_balance, 90)
        self.assertLedgerMatches(card)
        self.assertFalse(any(card.transaction_ids.mapped("request_ip")))
        audit = card.message_ids.filtered(lambda m: "anonymized" in (m.body or ""))
        self.assertTrue(audit)
        self.assertIn("Loyalty Admin", audit[0].body)
        self.assertEqual(audit[0].author_id, self.admin_user.partner_id)
        self.assertFalse(self.env["res.partner"].search([("email", "=", "lea@example.com")]))

    # ---------------------------------------------------------------- admin tools

    def test_archive_and_restore_program_cascades(self):
        self.card2.action_archive()  # archived on its own: stays archived
        self.program.action_archive()
        self.assertFalse(self.card.active)
        self.program.action_unarchive()
        self.assertTrue(self.card.active)
        self.assertFalse(self.card2.active)

    def test_bulk_deactivate_with_reason(self):
        cards = self.card | self.card2
        wizard = (
            self.env["loyalty_plus.card.deactivate"]
            .with_user(self.manager)
            .with_context(active_model="loyalty_plus.card", active_ids=cards.ids, allowed_company_ids=[self.bakery.id])
            .create({"reason": "Cards reported lost"})
        )
        self.assertEqual(wizard.card_ids, cards)
        wizard.action_apply()
        self.assertFalse(any(cards.mapped("active")))
        self.assertEqual(set(cards.mapped("deactivation_reason")), {"Cards reported lost"})
        with self.assertRaises(UserError):
            self.env["loyalty_plus.card.deactivate"].create({"card_ids": cards.ids, "reason": " "}).action_apply()

    def test_bulk_bonus_selection_and_filter(self):
        Bonus = (
            self.env["loyalty_plus.card.bonus"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.bakery.id])
        )
        Bonus.create({"card_ids": [Command.set(self.card.ids)], "points": 15, "reason": "Anniversary"}).action_apply()
        self.assertEqual(self.card.points_balance, 105)
        bonus_row = self.card.transaction_ids.filtered(lambda t: t.transaction_type == "bonus")
        self.assertEqual(bonus_row.note, "Anniversary")
        self.assertEqual(bonus_row.admin_user_id, self.manager)
        Bonus.create(
            {"target": "filter", "card_domain": "[('points_balance', '<', 50)]", "points": 5, "reason": "Boost"}
        ).action_apply()
        self.assertEqual(self.card2.points_balance, 25)
        self.assertEqual(self.card.points_balance, 105)
        for card in (self.card, self.card2):
            self.assertLedgerMatches(card)
        with self.assertRaises(UserError):
            Bonus.create({"card_ids": [Command.set(self.card.ids)], "points": -5, "reason": "x"}).action_apply()
        with self.assertRaises(AccessError):
            self.env["loyalty_plus.card.bonus"].with_user(self.cashier).create(
                {"card_ids": [Command.set(self.card.ids)], "points": 5, "reason": "x"}
            ).action_apply()

    def test_assign_pins_to_shop(self):
        Assign = (
            self.env["loyalty_plus.staff_pin.assign"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.bakery.id])
        )
        Assign.create(
            {"staff_pin_ids": [Command.set(self.pin_anna.ids)], "shop_id": self.branch_diff.id}
        ).action_apply()
        self.assertEqual(self.pin_anna.shop_id, self.branch_diff)
        with self.assertRaises(UserError):
            Assign.create({"staff_pin_ids": [Command.set(self.pin_anna.ids)], "shop_id": self.cafe.id}).action_apply()

    def test_restore_expired_points(self):
        self.program.points_expiration_days = 30
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE loyalty_plus_card SET last_activity_date = now() - interval '40 days' WHERE id = %s",
            [self.card.id],
        )
        self.patch(self.env.cr, "commit", lambda: None)
        self.env["loyalty_plus.card"]._cron_expire_points()
        self.assertEqual(self.card.points_balance, 0)
        wizard = (
            self.env["loyalty_plus.card.restore_points"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.bakery.id])
            .create({"card_id": self.card.id, "reason": "Customer was abroad"})
        )
        self.assertEqual(wizard.points, 90, "defaults to what the last expiry took")
        wizard.action_apply()
        self.assertEqual(self.card.points_balance, 90)
        row = self.card.transaction_ids[0]
        self.assertEqual(row.transaction_type, "points_adjusted")
        self.assertIn("Customer was abroad", row.note)
        self.assertEqual(row.admin_user_id, self.manager)
        self.assertLedgerMatches(self.card)
        with self.assertRaises(UserError):
            self.env["loyalty_plus.card.restore_points"].create(
                {"card_id": self.card.id, "points": 500, "reason": "too much"}
            ).action_apply()
