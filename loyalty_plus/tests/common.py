import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

from werkzeug.serving import make_server

import odoo.http
from odoo import api, fields
from odoo.fields import Command
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import BaseCase, TransactionCase, freeze_time, get_db_name

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal


class CommittedDataCase(BaseCase):
    """Tests whose data is committed: each till, request or cron among them is a connection of its
    own (the racing and read-only-transaction tests). They remove what they committed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    @classmethod
    @contextmanager
    def committed_env(cls):
        """A superuser environment on a cursor of its own, committed at the end of the block."""
        with cls.registry.cursor() as cr:
            yield api.Environment(cr, api.SUPERUSER_ID, {})


def in_one_rate_window():
    """Run a block at the start of the next clock minute, the clock still running.

    Rate-limit counters are per clock minute: a test counting "the call allowed, then the one
    refused" fails when the minute turns between the two calls."""
    start = fields.Datetime.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    return freeze_time(start, tick=True)


def serve_threaded(case):
    """Odoo served on 127.0.0.1 by a threaded server for the rest of ``case``'s test (HttpCase's
    server takes one request at a time): requests that really run side by side. Returns its URL."""
    # the test runner holds the registry lock that every request takes on its way in
    case.patch(Registry, "_lock", DummyRLock())
    server = make_server("127.0.0.1", 0, odoo.http.root, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(10)

    case.addCleanup(stop)
    return f"http://127.0.0.1:{server.server_port}"


def create_committed_merchant(env, name, **program_vals):
    """A merchant of its own and its program, for the tests whose data is committed (several
    connections racing): a unique name, so that a run never meets the rows of another."""
    company = env["res.company"].create(
        {
            "name": f"{name} {uuid.uuid4().hex[:8]}",
            "currency_id": env.ref("base.EUR").id,
            "loyalty_plus_plan_id": env.ref("loyalty_plus.plan_enterprise").id,
        }
    )
    program = env["loyalty_plus.program"].create(
        {"name": name, "company_id": company.id, "require_staff_pin": False, **program_vals}
    )
    return company, program


def create_committed_cashier(env, company, name):
    """A cashier of ``company`` (internal user with the Loyalty+ cashier rights), for the tests
    whose data is committed: the login holds the company's id, so that runs never collide."""
    return (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": name,
                "login": f"{name.lower().replace(' ', '_')}_{company.id}",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "group_ids": [
                    Command.set([env.ref("base.group_user").id, env.ref("loyalty_plus.group_loyalty_plus_cashier").id])
                ],
            }
        )
    )


def remove_committed_merchant(cr, company_id, program_id, partner_ids=()):
    """Undo ``create_committed_merchant`` and the cards, ledger and codes a test made on it (the
    ledger is append-only for the ORM: its rows go with SQL). The test's other rows go first."""
    cr.execute(
        "DELETE FROM loyalty_plus_redemption WHERE card_id IN (SELECT id FROM loyalty_plus_card WHERE program_id = %s)",
        [program_id],
    )
    cr.execute("DELETE FROM loyalty_plus_transaction WHERE program_id = %s", [program_id])
    cr.execute("DELETE FROM loyalty_plus_card WHERE program_id = %s", [program_id])
    env = api.Environment(cr, api.SUPERUSER_ID, {})
    env["loyalty_plus.program"].browse(program_id).unlink()
    env["res.partner"].browse(partner_ids).unlink()
    env["res.company"].browse(company_id).action_archive()


class LoyaltyPlusCase(TransactionCase):
    """Two merchants: a bakery with two branches (hybrid program) and a café (stamps)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Enterprise: these tests exercise every feature (the plans' limits have tests of their own)
        enterprise = cls.env.ref("loyalty_plus.plan_enterprise")
        Company = cls.env["res.company"].with_context(default_loyalty_plus_plan_id=enterprise.id)
        cls.bakery = Company.create({"name": "Test Bakery", "currency_id": cls.env.ref("base.EUR").id})
        cls.branch_esch = Company.create({"name": "Test Bakery Esch", "parent_id": cls.bakery.id})
        cls.branch_diff = Company.create({"name": "Test Bakery Differdange", "parent_id": cls.bakery.id})
        cls.cafe = Company.create({"name": "Test Café", "currency_id": cls.env.ref("base.EUR").id})
        cls.program = cls.env["loyalty_plus.program"].create(
            {
                "name": "Bakery Rewards",
                "company_id": cls.bakery.id,
                "program_type": "hybrid",
                "stamps_target": 3,
                "points_per_euro": 10,
                "minimum_purchase": 2,
                "minimum_redemption_points": 50,
                "welcome_bonus_points": 20,
                "stamp_cooldown_minutes": 15,
                "max_stamps_per_day": 2,
                "require_staff_pin": True,
            }
        )
        cls.cafe_program = cls.env["loyalty_plus.program"].create(
            {"name": "Café Stamps", "company_id": cls.cafe.id, "program_type": "stamps", "stamps_target": 5}
        )
        cls.silver = cls.env["loyalty_plus.tier"].create(
            {"name": "Silver", "program_id": cls.program.id, "threshold_points": 500, "multiplier": 1.5}
        )
        cls.reward = cls.env["loyalty_plus.reward"].create(
            {
                "name": "Free croissant",
                "program_id": cls.program.id,
                "points_cost": 100,
                "reward_kind": "amount",
                "discount_amount": 1.5,
            }
        )
        cls.pin_anna = cls.env["loyalty_plus.staff_pin"].create(
            {"name": "Anna", "program_id": cls.program.id, "shop_id": cls.bakery.id, "new_pin": "1234"}
        )
        cls.pin_esch = cls.env["loyalty_plus.staff_pin"].create(
            {"name": "Marc", "program_id": cls.program.id, "shop_id": cls.branch_esch.id, "new_pin": "5678"}
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Lea Muller", "email": "lea@example.com", "phone": "+352621000001"}
        )
        cls.partner2 = cls.env["res.partner"].create({"name": "Tom Weber", "email": "tom@example.com"})
        Users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.cashier = Users.create(
            {
                "name": "Bakery Cashier",
                "login": "lp_cashier",
                "company_id": cls.bakery.id,
                "company_ids": [Command.set((cls.bakery | cls.branch_esch).ids)],
                "group_ids": [
                    Command.set(
                        [cls.env.ref("base.group_user").id, cls.env.ref("loyalty_plus.group_loyalty_plus_cashier").id]
                    )
                ],
            }
        )
        cls.manager = Users.create(
            {
                "name": "Bakery Manager",
                "login": "lp_manager",
                "company_id": cls.bakery.id,
                "company_ids": [Command.set((cls.bakery | cls.branch_esch | cls.branch_diff).ids)],
                "group_ids": [
                    Command.set(
                        [cls.env.ref("base.group_user").id, cls.env.ref("loyalty_plus.group_loyalty_plus_manager").id]
                    )
                ],
            }
        )
        cls.cafe_manager = Users.create(
            {
                "name": "Café Manager",
                "login": "lp_cafe_manager",
                "company_id": cls.cafe.id,
                "company_ids": [Command.set(cls.cafe.ids)],
                "group_ids": [
                    Command.set(
                        [cls.env.ref("base.group_user").id, cls.env.ref("loyalty_plus.group_loyalty_plus_manager").id]
                    )
                ],
            }
        )
        cls.card = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.partner.id, "program_id": cls.program.id, "shop_id": cls.bakery.id}
        )

    def as_user(self, record, user, company=None):
        """``record`` seen by ``user`` working in ``company`` (default: the user's company)."""
        company = company or user.company_id
        return record.with_user(user).with_context(allowed_company_ids=[company.id]).with_company(company)

    def refusal_of(self, call):
        """The refusal ``call`` raises, caught without the savepoint of ``assertRaises``: a wrong
        PIN of a staff member made in this test's transaction is counted in it, and must stay."""
        try:
            call()
        except LoyaltyPlusRefusal as refusal:
            return refusal
        self.fail("no refusal")

    def assertLedgerMatches(self, card):
        """The card's balances equal the sums of its ledger rows."""
        card.invalidate_recordset()
        rows = self.env["loyalty_plus.transaction"].sudo().search([("card_id", "=", card.id)])
        self.assertEqual(card.points_balance, sum(rows.mapped("points_delta")))
        self.assertEqual(card.stamp_count, sum(rows.mapped("stamps_delta")))
        self.assertEqual(
            card.points_balance,
            card.total_points_earned
            - card.total_points_redeemed
            - card.total_points_voided
            - card.total_points_expired,
        )
        self.assertGreaterEqual(card.points_balance, 0)
        self.assertGreaterEqual(card.stamp_count, 0)
