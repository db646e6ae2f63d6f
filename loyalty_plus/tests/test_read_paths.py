from odoo import api
from odoo.fields import Command
from odoo.sql_db import db_connect
from odoo.tests import get_db_name, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.models.loyalty_plus_rate_limit import READ_FLUSH_HITS

from .common import CommittedDataCase, create_committed_cashier, create_committed_merchant, remove_committed_merchant


@tagged("post_install", "-at_install")
class TestReadPathsOnReplica(CommittedDataCase):
    """Lookups and history run in a read-only PostgreSQL transaction, the kind a replica serves
    (``--db_replica_host``): any write on their path would fail there."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.committed_env() as env:
            company, program = create_committed_merchant(
                env,
                "Replica",
                program_type="hybrid",
                points_per_euro=1,
                minimum_purchase=0,
                minimum_redemption_points=0,
            )
            env["loyalty_plus.reward"].create(
                {"name": "Tea", "program_id": program.id, "points_cost": 5, "reward_kind": "voucher"}
            )
            partner = env["res.partner"].create({"name": "Replica Reader", "email": "replica.reader@example.com"})
            card = env["loyalty_plus.card"].create({"partner_id": partner.id, "program_id": program.id})
            card._earn(12, company, order_ref="REPLICA-1")
            cashier = create_committed_cashier(env, company, "Replica Cashier")
            integration = env["loyalty_plus.integration"].create(
                {"name": "Replica reader", "company_id": company.id, "shop_ids": [Command.set(company.ids)]}
            )
            cls.ids = {
                "company": company.id,
                "program": program.id,
                "partner": partner.id,
                "card_number": card.card_number,
                "cashier": cashier.id,
                "integration": integration.id,
                "integration_user": integration.user_id.id,
            }

    @classmethod
    def tearDownClass(cls):
        ids = cls.ids
        with cls.registry.cursor() as cr:
            cr.execute("DELETE FROM loyalty_plus_integration WHERE id = %s", [ids["integration"]])
            cr.execute("DELETE FROM loyalty_plus_rate_limit WHERE key = %s", [f"api:integration:{ids['integration']}"])
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            users = env["res.users"].browse([ids["cashier"], ids["integration_user"]])
            user_partners = users.partner_id
            users.unlink()
            user_partners.unlink()
            remove_committed_merchant(cr, ids["company"], ids["program"], [ids["partner"]])
        super().tearDownClass()

    def _readonly_env(self, uid):
        cr = db_connect(get_db_name(), readonly=True).cursor()
        self.addCleanup(cr.close)
        self.assertTrue(cr.readonly)
        company = self.ids["company"]
        return api.Environment(cr, uid, {"allowed_company_ids": [company]})

    def test_cashier_lookup_and_summary(self):
        env = self._readonly_env(self.ids["cashier"])
        summary = env["loyalty_plus.card"].lookup(self.ids["card_number"])
        self.assertEqual(summary["points"], 12)
        self.assertTrue(summary["rewards"][0]["redeemable"])
        # the same path written to would fail: the transaction really is read-only
        with self.assertRaisesRegex(Exception, "read-only transaction"), mute_logger("odoo.sql_db"):
            env.cr.execute("UPDATE loyalty_plus_card SET write_date = now() WHERE id = %s", [summary["id"]])

    def test_integration_lookup_and_history(self):
        env = self._readonly_env(self.ids["integration_user"])
        Api = env["loyalty_plus.api"]
        # more calls than a batch of hits: the batch is written on a cursor of its own
        for _call in range(READ_FLUSH_HITS + 2):
            self.assertEqual(Api.lookup(self.ids["card_number"])["card"]["points"], 12)
        history = Api.history(self.ids["card_number"])
        self.assertEqual([item["type"] for item in history["items"]], ["points_earned"])
