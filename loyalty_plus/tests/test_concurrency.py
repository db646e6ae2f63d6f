import threading
import time

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import UserError
from odoo.orm.environments import Transaction
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.models.loyalty_plus_card import BALANCE_FIELDS  # noqa: F401 - module must load

from .common import CommittedDataCase, create_committed_cashier, create_committed_merchant, remove_committed_merchant


@tagged("post_install", "-at_install")
class TestLoyaltyPlusConcurrency(CommittedDataCase):
    """Two tills on one card at the same instant, each in its own database transaction.

    The data is committed (the tills are separate connections), and removed afterwards.
    Each till runs its operation the way the server runs an RPC: through ``retrying``.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env,
                "Race",
                program_type="hybrid",
                stamps_target=10,
                points_per_euro=10,
                minimum_redemption_points=0,
                stamp_cooldown_minutes=15,
            )
            reward = env["loyalty_plus.reward"].create(
                {"name": "Cake", "program_id": program.id, "points_cost": 100, "reward_kind": "voucher"}
            )
            partner = env["res.partner"].create({"name": "Racer"})
            card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
            card._apply_ledger({"transaction_type": "points_earned", "points_delta": 150, "shop_id": company.id})
            user = create_committed_cashier(env, company, "Race Cashier")
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "reward": reward.id,
                "partner": partner.id,
                "card": card.id,
                "user": user.id,
            }

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            api.Environment(cr, api.SUPERUSER_ID, {})["res.users"].browse(ids["user"]).unlink()
            remove_committed_merchant(cr, ids["company"], ids["program"], [ids["partner"]])
        super().tearDownClass()

    def _run_tills(self, operation, count=2):
        """Run ``operation(card)`` from ``count`` threads released together; returns outcomes."""
        barrier = threading.Barrier(count)
        outcomes = []

        def till():
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SELECT 1")  # open the snapshot before the race starts
                    barrier.wait(timeout=10)
                    # what the server does for an RPC (odoo.service.model.retrying): retry the whole
                    # call on a serialization failure. That helper is not used as such because it
                    # looks the registry up under Registry._lock, which the test runner holds.
                    for _attempt in range(5):
                        # a transaction of its own up front, for the same reason
                        cr.transaction = Transaction(self.registry)
                        env = api.Environment(cr, self.ids["user"], {"allowed_company_ids": [self.ids["company"]]})
                        try:
                            result = operation(env["loyalty_plus.card"].browse(self.ids["card"]))
                            cr.commit()  # pylint: disable=invalid-commit  # each till is its own transaction
                            outcomes.append(("ok", result))
                            break
                        except UserError as e:
                            cr.rollback()
                            outcomes.append(("refused", str(e)))
                            break
                        except SerializationFailure:
                            cr.rollback()
                            time.sleep(0.05)
            except Exception as e:
                outcomes.append(("error", repr(e)))

        threads = [threading.Thread(target=till) for _ in range(count)]
        with mute_logger("odoo.sql_db"):
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        self.assertEqual(len(outcomes), count, f"a till did not finish: {outcomes}")
        return outcomes

    def _card_state(self):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT c.points_balance, c.stamp_count,
                          (SELECT coalesce(sum(points_delta), 0) FROM loyalty_plus_transaction WHERE card_id = c.id),
                          (SELECT coalesce(sum(stamps_delta), 0) FROM loyalty_plus_transaction WHERE card_id = c.id)
                     FROM loyalty_plus_card c WHERE c.id = %s""",
                [self.ids["card"]],
            )
            return cr.fetchone()

    def test_1_two_tills_redeem_never_overdraw(self):
        outcomes = self._run_tills(lambda card: card.redeem_reward(self.ids["reward"]))
        kinds = sorted(kind for kind, _ in outcomes)
        self.assertEqual(kinds, ["ok", "refused"], outcomes)
        refusal = next(msg for kind, msg in outcomes if kind == "refused")
        self.assertIn("Not enough points: the card has 50", refusal)
        balance, _stamps, ledger_points, _ledger_stamps = self._card_state()
        self.assertEqual((balance, ledger_points), (50, 50))

    def test_2_two_tills_stamp_respect_cooldown(self):
        outcomes = self._run_tills(lambda card: card.add_stamp())
        self.assertEqual(sorted(kind for kind, _ in outcomes), ["ok", "refused"], outcomes)
        _balance, stamps, _points, ledger_stamps = self._card_state()
        self.assertEqual((stamps, ledger_stamps), (1, 1))

    def test_3_same_order_synced_twice_earns_once(self):
        outcomes = self._run_tills(lambda card: card.earn_points(10, order_ref="RACE-1"))
        self.assertEqual([kind for kind, _ in outcomes], ["ok", "ok"], outcomes)
        self.assertEqual(len({result["transaction_id"] for _, result in outcomes}), 1)
        balance, _stamps, ledger_points, _ledger_stamps = self._card_state()
        self.assertEqual(balance, ledger_points)
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM loyalty_plus_transaction WHERE order_ref = 'RACE-1'")
            self.assertEqual(cr.fetchone()[0], 1)
