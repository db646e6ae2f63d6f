import threading
import time

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.orm.environments import Transaction
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CommittedDataCase, create_committed_merchant, remove_committed_merchant


@tagged("post_install", "-at_install")
class TestApiIdempotencyRace(CommittedDataCase):
    """Retries of one write racing in separate database transactions: the unique index on
    (integration, idempotency key) lets one of them act and the others replay its answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env,
                "API Race",
                program_type="points",
                points_per_euro=10,
            )
            partner = env["res.partner"].create({"name": "API Racer"})
            card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
            integration = env["loyalty_plus.integration"].create(
                {"name": "Race shop", "company_id": company.id, "shop_ids": [Command.set(company.ids)]}
            )
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "partner": partner.id,
                "card": card.id,
                "card_number": card.card_number,
                "integration": integration.id,
                "user": integration.user_id.id,
            }

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            cr.execute("DELETE FROM loyalty_plus_idempotency WHERE integration_id = %s", [ids["integration"]])
            cr.execute("DELETE FROM loyalty_plus_integration WHERE id = %s", [ids["integration"]])
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            user = env["res.users"].browse(ids["user"])
            partner = user.partner_id
            user.unlink()
            partner.unlink()
            remove_committed_merchant(cr, ids["company"], ids["program"], [ids["partner"]])
        super().tearDownClass()

    def _race(self, count, call):
        barrier = threading.Barrier(count)
        outcomes = []

        def client():
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SELECT 1")  # take the snapshot before the race starts
                    barrier.wait(timeout=10)
                    # the server's retrying(): replay the whole call after a serialization failure
                    for _attempt in range(5):
                        cr.transaction = Transaction(self.registry)
                        env = api.Environment(cr, self.ids["user"], {})
                        try:
                            result = call(env["loyalty_plus.api"])
                            cr.commit()  # pylint: disable=invalid-commit  # each till is its own transaction
                            outcomes.append(("ok", result))
                            break
                        except UserError as e:
                            cr.rollback()
                            outcomes.append(("refused", str(e)))
                            break
                        except SerializationFailure:
                            cr.rollback()
                            time.sleep(0.02)
                    else:
                        outcomes.append(("error", "too many retries"))
            except Exception as e:
                outcomes.append(("error", repr(e)))

        threads = [threading.Thread(target=client) for _i in range(count)]
        with mute_logger("odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertEqual(len(outcomes), count, outcomes)
        return outcomes

    def test_racing_retries_one_ledger_row(self):
        outcomes = self._race(
            4,
            lambda Api: Api.earn(
                idempotency_key="race-1", card=self.ids["card_number"], amount=10, order_ref="RACE-API-1"
            ),
        )
        self.assertEqual([kind for kind, _result in outcomes], ["ok"] * 4, outcomes)
        self.assertEqual(len({result["transaction_id"] for _kind, result in outcomes}), 1)
        self.assertEqual(sum(1 for _kind, result in outcomes if not result.get("replayed")), 1)
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM loyalty_plus_transaction WHERE order_ref = 'RACE-API-1'")
            self.assertEqual(cr.fetchone()[0], 1)
            cr.execute(
                """SELECT c.points_balance, (SELECT sum(points_delta) FROM loyalty_plus_transaction t
                                              WHERE t.card_id = c.id)
                     FROM loyalty_plus_card c WHERE c.id = %s""",
                [self.ids["card"]],
            )
            balance, ledger = cr.fetchone()
            self.assertEqual(balance, ledger)

    def test_racing_conflict(self):
        outcomes = self._race(
            2,
            lambda Api: Api.earn(
                idempotency_key="race-2",
                card=self.ids["card_number"],
                amount=10,
                order_ref=f"RACE-API-{threading.get_ident()}",
            ),
        )
        kinds = sorted(kind for kind, _result in outcomes)
        self.assertEqual(kinds, ["ok", "refused"], outcomes)
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM loyalty_plus_transaction WHERE order_ref LIKE %s AND order_ref != 'RACE-API-1'",
                ["RACE-API-%"],
            )
            self.assertEqual(cr.fetchone()[0], 1)
        refusal = next(result for kind, result in outcomes if kind == "refused")
        self.assertIn("idempotency key was already used", refusal)
