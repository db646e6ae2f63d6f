import random
import threading
import time

from odoo import api
from odoo.exceptions import ConcurrencyError
from odoo.orm.environments import Transaction
from odoo.tests import tagged

from .common import CommittedDataCase, create_committed_merchant, remove_committed_merchant


@tagged("post_install", "-at_install")
class TestEnrollmentRace(CommittedDataCase):
    """Enrollments of one email at the same time, each on its own connection, as requests run
    them (committed; removed afterwards)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(env, "Enroll race", welcome_bonus_points=5)
            cls.company_id, cls.program_id = company.id, program.id
        cls.emails = []
        cls.addClassCleanup(cls._remove_data)

    @classmethod
    def _remove_data(cls):
        with cls.registry.cursor() as cr:
            cr.execute("SELECT id FROM res_partner WHERE email_normalized = ANY(%s)", [cls.emails])
            partner_ids = [row[0] for row in cr.fetchall()]
            remove_committed_merchant(cr, cls.company_id, cls.program_id, partner_ids)

    def cards_of(self, email):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT count(DISTINCT partner.id), count(card.id) FROM res_partner partner
                     LEFT JOIN loyalty_plus_card card ON card.partner_id = partner.id
                    WHERE partner.email_normalized = %s""",
                [email],
            )
            return cr.fetchone()

    def card_model(self, cr):
        return api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})["loyalty_plus.card"]

    def test_stale_snapshot_starts_again(self):
        """A request whose snapshot predates another's committed enrollment of the same email
        starts again instead of creating a second customer."""
        email = "stale.race@example.com"
        self.emails.append(email)
        with self.registry.cursor() as late_cr, self.registry.cursor() as first_cr:
            late_cr.execute("SELECT 1")  # the late request's snapshot
            first = self.card_model(first_cr).enroll("Race Member", email)
            first_cr.commit()
            with self.assertRaises(ConcurrencyError):
                self.card_model(late_cr).enroll("Race Member", email)
            late_cr.rollback()
            again = self.card_model(late_cr).enroll("Race Member", email)
            late_cr.commit()
        self.assertTrue(first["created"])
        self.assertEqual((again["created"], again["id"]), (False, first["id"]))
        self.assertEqual(self.cards_of(email), (1, 1))

    def test_parallel_enrollments_make_one_member(self):
        email = "parallel.race@example.com"
        self.emails.append(email)
        results, errors = [], []
        barrier = threading.Barrier(4)

        def enroll():
            try:
                with self.registry.cursor() as cr:
                    # a transaction object of its own up front: looking the registry up would need
                    # Registry._lock, which the test runner's thread holds
                    cr.transaction = Transaction(self.registry)
                    Card = self.card_model(cr)
                    cr.execute("SELECT 1")
                    barrier.wait(timeout=30)
                    # as Odoo runs a request: rolled back and started again on a concurrency error
                    # (``odoo.service.model.retrying`` minus its registry reset, which would wait
                    # for the Registry._lock the test runner's thread holds)
                    for _attempt in range(5):
                        try:
                            results.append(Card.enroll("Race Member", email))
                            cr.commit()  # pylint: disable=invalid-commit
                            break
                        except ConcurrencyError:
                            cr.rollback()
                            time.sleep(random.uniform(0, 0.2))
            except Exception as error:  # reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=enroll) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertFalse(errors)
        self.assertEqual(len(results), 4)
        self.assertEqual(sum(result["created"] for result in results), 1)
        self.assertEqual(len({result["id"] for result in results}), 1)
        self.assertEqual(self.cards_of(email), (1, 1))
