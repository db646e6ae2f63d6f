import threading

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import ConcurrencyError
from odoo.orm.environments import Transaction
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

from .common import CommittedDataCase, create_committed_merchant, remove_committed_merchant


@tagged("post_install", "-at_install")
class TestPlanLastPlace(CommittedDataCase):
    """Two customers enroll at the same time for the last place of a plan, each on its own
    connection as requests do: one gets it, the other is refused (committed; removed afterwards)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(env, "Last place")
            plan = env["loyalty_plus.plan"].create({"name": "One member", "price_monthly": 1, "max_members": 1})
            company.loyalty_plus_plan_id = plan
            cls.company_id, cls.program_id, cls.plan_id = company.id, program.id, plan.id
        cls.addClassCleanup(cls._remove_data)

    @classmethod
    def _remove_data(cls):
        with cls.registry.cursor() as cr:
            cr.execute("SELECT id FROM res_partner WHERE email LIKE 'last.place.%%@example.com'")
            partner_ids = [row[0] for row in cr.fetchall()]
            remove_committed_merchant(cr, cls.company_id, cls.program_id, partner_ids)
            cr.execute("UPDATE res_company SET loyalty_plus_plan_id = NULL WHERE id = %s", [cls.company_id])
            cr.execute("DELETE FROM loyalty_plus_plan WHERE id = %s", [cls.plan_id])

    def card_model(self, cr):
        return api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})["loyalty_plus.card"]

    def test_one_customer_gets_the_last_place(self):
        outcome = {}

        def second():
            # the serialization error is expected: not an ERROR of the run's log
            with mute_logger("odoo.sql_db"), self.registry.cursor() as cr:
                cr.transaction = Transaction(self.registry)  # not the registry's lock the runner holds
                # as Odoo runs a request: started again after a serialization error
                for _attempt in range(5):
                    try:
                        self.card_model(cr).enroll("Second Customer", "last.place.2@example.com")
                        cr.commit()  # pylint: disable=invalid-commit
                        outcome["second"] = "enrolled"
                        return
                    except (ConcurrencyError, SerializationFailure) as error:
                        cr.rollback()
                        cr.transaction = Transaction(self.registry)
                        outcome["retried"] = error
                    except LoyaltyPlusRefusal as refusal:
                        outcome["second"] = refusal.code
                        return
                    except Exception as error:  # reported by the assertion below
                        outcome["second"] = repr(error)
                        return

        with self.registry.cursor() as first_cr:
            self.card_model(first_cr).enroll("First Customer", "last.place.1@example.com")
            # the second enrollment starts while the first holds the last place, not committed yet
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(timeout=2)
            self.assertTrue(thread.is_alive(), "the second enrollment must wait for the first")
            first_cr.commit()
        thread.join(timeout=30)
        self.assertEqual(outcome.get("second"), "plan_limit", outcome)
        self.assertTrue(outcome.get("retried"))
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM loyalty_plus_card WHERE company_id = %s AND active", [self.company_id])
            self.assertEqual(cr.fetchone()[0], 1)
