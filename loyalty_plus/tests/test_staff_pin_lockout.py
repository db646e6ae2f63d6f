from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import api
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import CommittedDataCase, LoyaltyPlusCase, create_committed_merchant, remove_committed_merchant

T0 = datetime(2026, 12, 7, 9, 0)


@tagged("post_install", "-at_install")
class TestStaffPinEscalation(LoyaltyPlusCase):
    """Each lock in a row lasts twice the one before; the third in a day waits for a manager."""

    def try_pin(self, pin):
        return self.refusal_of(lambda: self.pin_anna._check_pin(pin, self.bakery))

    def lock_out(self):
        """Five wrong PINs: the fifth locks."""
        for _attempt in range(4):
            self.assertEqual(self.try_pin("0000").code, "wrong_pin")
        refusal = self.try_pin("0000")
        self.assertEqual(refusal.code, "pin_locked")
        return refusal

    def test_locks_double_then_manager_only(self):
        self.bakery.loyalty_plus_pin_lock_minutes = 30
        with freeze_time(T0):
            self.lock_out()
            self.assertEqual(self.pin_anna.locked_until, T0 + timedelta(minutes=30))
            self.assertEqual(self.pin_anna.lock_count, 1)
            # even the right PIN waits for the lock to end
            self.assertEqual(self.try_pin("1234").code, "pin_locked")
        with freeze_time(T0 + timedelta(minutes=31)):
            self.lock_out()
            self.assertEqual(self.pin_anna.locked_until, T0 + timedelta(minutes=31 + 60))
        with freeze_time(T0 + timedelta(minutes=92)):
            self.assertFalse(self.pin_anna.manager_unlock_required)
            refusal = self.lock_out()
            self.assertIn("manager", refusal.args[0])
            self.assertTrue(self.pin_anna.manager_unlock_required)
            self.assertTrue(self.pin_anna.is_locked)
        # waiting does not help any more; managers were told
        with freeze_time(T0 + timedelta(days=3)):
            self.assertEqual(self.try_pin("1234").code, "pin_locked")
            activity = self.env["mail.activity"].search(
                [("res_model", "=", "loyalty_plus.staff_pin"), ("res_id", "=", self.pin_anna.id)]
            )
            self.assertIn(self.manager, activity.user_id)
            with self.assertRaises(AccessError):
                self.pin_anna.with_user(self.cashier).action_unlock()
            self.pin_anna.with_user(self.manager).with_context(
                allowed_company_ids=self.manager.company_ids.ids
            ).action_unlock()
            self.assertFalse(self.pin_anna.is_locked)
            self.pin_anna._check_pin("1234", self.bakery)  # no refusal
            self.assertEqual(self.pin_anna.lock_count, 0)

    def test_right_pin_ends_the_streak(self):
        with freeze_time(T0):
            self.lock_out()
        with freeze_time(T0 + timedelta(minutes=31)):
            self.pin_anna._check_pin("1234", self.bakery)
            self.assertEqual(self.pin_anna.lock_count, 0)
            self.lock_out()
            self.assertEqual(self.pin_anna.lock_count, 1)
            self.assertEqual(self.pin_anna.locked_until, T0 + timedelta(minutes=61))

    def test_streak_forgotten_after_a_day(self):
        with freeze_time(T0):
            self.lock_out()
        with freeze_time(T0 + timedelta(hours=25)):
            self.lock_out()
            self.assertEqual(self.pin_anna.lock_count, 1)
            self.assertEqual(self.pin_anna.locked_until, T0 + timedelta(hours=25, minutes=30))


@tagged("post_install", "-at_install")
class TestWrongPinSurvivesRollback(CommittedDataCase):
    """A wrong PIN is refused (the caller's transaction rolls back) and still counts: it is written
    on a cursor of its own. Committed data: the till is a connection of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(env, "Pin", program_type="stamps", require_staff_pin=True)
            partner = env["res.partner"].create({"name": "Pin Customer", "email": "pin.customer@example.com"})
            card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
            staff = env["loyalty_plus.staff_pin"].create(
                {"name": "Pat", "program_id": program.id, "shop_id": company.id, "new_pin": "2468"}
            )
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "partner": partner.id,
                "card": card.id,
                "staff": staff.id,
            }

    @classmethod
    def tearDownClass(cls):
        with cls.registry.cursor() as cr:
            cr.execute("DELETE FROM loyalty_plus_staff_pin WHERE id = %s", [cls.ids["staff"]])
            remove_committed_merchant(cr, cls.ids["company"], cls.ids["program"], [cls.ids["partner"]])
        super().tearDownClass()

    def test_attempt_counts_after_rollback(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            card = env["loyalty_plus.card"].browse(self.ids["card"])
            company = env["res.company"].browse(self.ids["company"])
            with self.assertRaises(LoyaltyPlusRefusal) as caught:
                card.with_company(company).add_stamp(staff_pin_id=self.ids["staff"], pin="1111")
            self.assertEqual(caught.exception.code, "wrong_pin")
            cr.rollback()  # what the server does with a refused call
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT failed_attempts, (SELECT count(*) FROM loyalty_plus_transaction WHERE card_id = %s)"
                "  FROM loyalty_plus_staff_pin WHERE id = %s",
                [self.ids["card"], self.ids["staff"]],
            )
            self.assertEqual(cr.fetchone(), (1, 0))
