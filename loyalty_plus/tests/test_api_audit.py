import json
import xmlrpc.client

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.models.loyalty_plus_api import TEXT_MAX_LENGTHS
from odoo.addons.loyalty_plus.tests.test_api_http import LoyaltyPlusApiHttpCase

# the legacy RPC endpoints log a deprecation warning and the refused logins
RPC_LOGGERS = (
    "odoo.http",
    "odoo.addons.rpc.controllers.xmlrpc",
    "odoo.addons.rpc.controllers.jsonrpc",
    "odoo.addons.base.models.res_users",
)


@tagged("post_install", "-at_install")
class TestApiIntegrationScope(LoyaltyPlusApiHttpCase):
    """An integration's API key opens the operations of loyalty_plus.api and nothing else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the audit's integration: 3 calls a minute, enroll and redeem switched off
        cls.slow = cls._make_integration(
            cls.manager,
            "Audit slow",
            cls.bakery,
            rate_limit_per_minute=3,
            allow_stamp=True,
            allow_void=True,
        )
        cls.slow_key = cls.slow._generate_api_key()

    def test_engine_models_refused_over_json2(self):
        self.card.earn_points(10, order_ref="SEED-1", shop_id=self.bakery.id)  # 120 points: enough for the reward
        ledger_before = self.env["loyalty_plus.transaction"].search_count([])
        calls = [
            ("loyalty_plus.card", "enroll", {"name": "Bypass Person", "email": "bypass@example.com"}),
            ("loyalty_plus.card", "redeem_reward", {"ids": self.card.ids, "reward_id": self.reward.id}),
            ("loyalty_plus.card", "earn_points", {"ids": self.card.ids, "amount": 50, "order_ref": "BYPASS-1"}),
            ("loyalty_plus.card", "add_stamp", {"ids": self.card.ids, "staff_pin_id": self.pin_anna.id, "pin": "1234"}),
            ("loyalty_plus.card", "lookup", {"query": "lea@example.com"}),
            ("res.partner", "search_read", {"domain": [], "fields": ["name", "email", "phone"]}),
            ("loyalty_plus.transaction", "search_read", {"domain": [], "fields": ["order_ref", "points_delta"]}),
            ("res.users", "read", {"ids": self.slow.user_id.ids, "fields": ["login"]}),
            # the API model's inherited ORM methods are not operations either
            ("loyalty_plus.api", "fields_get", {"attributes": ["string"]}),
        ]
        with mute_logger("odoo.http"):
            for model, method, params in calls:
                with self.subTest(model=model, method=method):
                    body = self.assertApiError(
                        self.call(method, key=self.slow_key, model=model, **params), 403, "integration_api_only"
                    )
                    self.assertNotIn("lea@example.com", json.dumps(body))
                    self.assertNotIn("Muller", json.dumps(body))
            # /json/1 (views as JSON) takes the same bearer key
            response = self.url_open(
                "/json/1/action-loyalty_plus.loyalty_plus_card_action",
                headers={"Authorization": f"bearer {self.slow_key}"},
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 403, response.text)
            self.assertNotIn("Muller", response.text)
        # nothing was written, nobody enrolled, the idempotency table untouched
        self.assertEqual(self.env["loyalty_plus.transaction"].search_count([]), ledger_before)
        self.assertFalse(self.env["res.partner"].search([("email", "=", "bypass@example.com")]))
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 120)
        # the integration's own operations still work, within what it is allowed
        status, body, _r = self.call("lookup", key=self.slow_key, query=self.card.card_number)
        self.assertEqual(status, 200, body)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("enroll", key=self.slow_key, idempotency_key="e1", name="Bypass", email="bypass@example.com"),
                403,
                "operation_not_allowed",
            )

    def test_engine_models_refused_every_time(self):
        """The audit made 9 calls a minute on the engine's models with a 3-a-minute integration:
        every one of them is refused now, none is served outside the API's counted operations."""
        with mute_logger("odoo.http"):
            outcomes = [
                self.call(
                    "search_read", key=self.slow_key, model="loyalty_plus.card", domain=[], fields=["card_number"]
                )
                for _i in range(5)
            ]
        self.assertEqual({status for status, _body, _r in outcomes}, {403}, [o[1] for o in outcomes])

    def test_key_is_no_password_for_legacy_rpc(self):
        user = self.slow.user_id
        db = self.env.cr.dbname
        with mute_logger(*RPC_LOGGERS):
            self.assertFalse(self.xmlrpc_common.authenticate(db, user.login, self.slow_key, {}))
            with self.assertRaises(xmlrpc.client.Fault) as fault:
                self.xmlrpc_object.execute_kw(
                    db, user.id, self.slow_key, "res.partner", "search_read", [[]], {"fields": ["email"]}
                )
            self.assertIn("Access Denied", fault.exception.faultString)
            with self.assertRaises(xmlrpc.client.Fault):
                self.xmlrpc_object.execute_kw(
                    db, user.id, self.slow_key, "loyalty_plus.card", "enroll", ["Bypass", "bypass@example.com"]
                )
            response = self.url_open(
                "/jsonrpc",
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "service": "object",
                        "method": "execute_kw",
                        "args": [db, user.id, self.slow_key, "loyalty_plus.transaction", "search_read", [[]]],
                    },
                },
            )
            body = response.json()
            self.assertIn("error", body, body)
            self.assertNotIn("result", body)
            # a password given to the integration's user by an administrator opens nothing either
            user.sudo().password = "integration-password-1"
            self.assertFalse(self.xmlrpc_common.authenticate(db, user.login, "integration-password-1", {}))
            with self.assertRaises(xmlrpc.client.Fault):
                self.xmlrpc_object.execute_kw(
                    db, user.id, "integration-password-1", "res.partner", "search_read", [[]], {"fields": ["email"]}
                )
            response = self.url_open(
                "/web/session/authenticate",
                json={"params": {"db": db, "login": user.login, "password": "integration-password-1"}},
            )
            self.assertIn("error", response.json())
        self.assertFalse(self.env["res.partner"].search([("email", "=", "bypass@example.com")]))
        # a cashier's own key stays a password for the legacy endpoints (Odoo's default)
        cashier_key = self.env["res.users.apikeys"].with_user(self.cashier).sudo()._generate(None, "own key", None)
        with mute_logger(*RPC_LOGGERS):
            self.assertEqual(self.xmlrpc_common.authenticate(db, self.cashier.login, cashier_key, {}), self.cashier.id)

    def test_client_context_is_not_applied(self):
        """JSON-2 applies the body's "context" to the model: an integration may only choose a language."""
        status, body, _r = self.call(
            "enroll",
            idempotency_key="ctx-1",
            name="Context Person",
            email="context@example.com",
            context={
                "default_points_balance": 100000,
                "default_stamp_count": 3,
                "default_cross_location": True,
                "lang": "en_US",
            },
        )
        self.assertEqual(status, 200, body)
        card = self.env["loyalty_plus.card"].browse(body["card"]["id"])
        self.assertEqual((card.points_balance, card.stamp_count), (20, 0), "only the welcome bonus")
        self.assertEqual(body["card"]["points"], 20)
        self.assertLedgerMatches(card)
        # active_test=False does not bring an archived card back
        card.action_archive()
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call(
                    "earn",
                    idempotency_key="ctx-2",
                    card="context@example.com",
                    amount=10,
                    order_ref="CTX-2",
                    context={"active_test": False},
                ),
                404,
                "card_not_found",
            )


@tagged("post_install", "-at_install")
class TestApiInputLimits(LoyaltyPlusApiHttpCase):
    """Bad input of any size or shape is a 4xx with a short message, never a 500."""

    def test_long_texts_refused(self):
        card = self.card.card_number
        status, body, _r = self.call("earn", idempotency_key="long-0", card=card, amount=5, order_ref="R" * 255)
        self.assertEqual(status, 200, body)
        with mute_logger("odoo.http"):
            for order_ref in ("R" * 256, "R" * 5_000_000):
                status, body, response = self.call(
                    "earn", idempotency_key="long-1", card=card, amount=5, order_ref=order_ref
                )
                self.assertEqual((status, body["context"]["code"]), (422, "validation_error"), str(body)[:500])
                self.assertIn("order_ref", body["message"])
                self.assertLess(len(response.content), 2000, "the input is not echoed")
            # a lookup of megabytes: refused before any search, without repeating the query
            status, body, response = self.call("lookup", query="x" * 2_000_000)
            self.assertEqual((status, body["context"]["code"]), (422, "validation_error"), str(body)[:500])
            self.assertLess(len(response.content), 2000)
            earned = self.call("earn", idempotency_key="long-2", card=card, amount=5, order_ref="NOTE-1")[1]
            self.assertApiError(
                self.call("void", idempotency_key="long-3", transaction_id=earned["transaction_id"], note="n" * 501),
                422,
                "validation_error",
            )
            self.assertApiError(
                self.call("enroll", idempotency_key="long-4", name="N" * 256, email="long@example.com"),
                422,
                "validation_error",
            )
        self.assertFalse(
            self.env["loyalty_plus.transaction"].search([("order_ref", "=like", "R" * 256 + "%")]),
            "nothing longer than 255 characters was stored",
        )
        self.assertFalse(self.env["res.partner"].search([("email", "=", "long@example.com")]))

    def test_openapi_states_the_limits(self):
        document = self.url_open("/loyalty_plus/openapi.json").json()
        checked = 0
        for name, schema in document["components"]["schemas"].items():
            if not name.endswith("Request"):
                continue
            for parameter, prop in schema["properties"].items():
                if parameter in TEXT_MAX_LENGTHS:
                    self.assertEqual(prop.get("maxLength"), TEXT_MAX_LENGTHS[parameter], (name, parameter))
                    checked += 1
        self.assertGreater(checked, 15)

    def test_deeply_nested_body_is_a_400(self):
        body = "[" * 100_000 + "]" * 100_000
        with mute_logger("odoo.http"):
            response = self.url_open(
                "/json/2/loyalty_plus.api/lookup",
                data=body,
                headers={"Content-Type": "application/json", "Authorization": f"bearer {self.key}"},
            )
        self.assertEqual(response.status_code, 400, response.text[:1000])
        self.assertIn("nested", response.json()["message"])
        self.assertFalse(response.json()["debug"])

    def test_no_traceback_in_api_errors(self):
        with mute_logger("odoo.http"):
            outcomes = {
                "card_not_found": self.call("lookup", query="nobody@example.com"),
                "validation_error": self.call("earn", idempotency_key="tb-1", card="x", amount="ten", order_ref="T"),
                "integration_api_only": self.call("search_read", model="res.partner", domain=[], fields=["name"]),
                "unknown_parameter": self.call("lookup", query="x", bogus=1),
                "no_key": self.call("lookup", key="", query="x"),
            }
        for case, (status, body, _response) in outcomes.items():
            with self.subTest(case=case):
                self.assertGreaterEqual(status, 400)
                self.assertTrue(body["message"], body)
                self.assertFalse(body.get("debug"), body)
                self.assertNotIn("Traceback", str(body))
                self.assertNotIn("/odoo/", str(body))
        # elsewhere JSON-2 keeps Odoo's default body
        cashier_key = self.env["res.users.apikeys"].with_user(self.cashier).sudo()._generate(None, "own key", None)
        with mute_logger("odoo.http"):
            status, body, _r = self.call(
                "read", key=cashier_key, model="loyalty_plus.card", ids=self.cafe_card.ids, fields=["points_balance"]
            )
        self.assertEqual(status, 403, body)
        self.assertIn("Traceback", body["debug"])


@tagged("post_install", "-at_install")
class TestApiErrorCodes(LoyaltyPlusApiHttpCase):
    """The code of a refusal names what refused, not a guess from the card's state."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cafe_program.require_staff_pin = True
        cls.pin_cafe = cls.env["loyalty_plus.staff_pin"].create(
            {"name": "Café staff", "program_id": cls.cafe_program.id, "shop_id": cls.cafe.id, "new_pin": "4567"}
        )

    def test_staff_of_another_merchant_on_a_card_in_cooldown(self):
        card = self.card.card_number
        status, body, _r = self.call(
            "stamp", idempotency_key="c0", card=card, staff_pin_id=self.pin_anna.id, pin="1234"
        )
        self.assertEqual(status, 200, body)
        with mute_logger("odoo.http"):
            body = self.assertApiError(
                self.call("stamp", idempotency_key="c1", card=card, staff_pin_id=self.pin_cafe.id, pin="4567"),
                422,
                "staff_not_found",
            )
            self.assertEqual(body["message"], "Unknown staff member.")
            self.assertApiError(
                self.call("stamp", idempotency_key="c2", card=card, staff_pin_id=999_999, pin="4567"),
                422,
                "staff_not_found",
            )
            # a staff member of the program, but of another shop
            self.assertApiError(
                self.call("stamp", idempotency_key="c3", card=card, staff_pin_id=self.pin_esch.id, pin="5678"),
                422,
                "staff_not_found",
            )
            self.assertApiError(
                self.call(
                    "earn",
                    idempotency_key="c4",
                    card=card,
                    amount=10,
                    order_ref="C-4",
                    staff_pin_id=self.pin_cafe.id,
                    pin="4567",
                ),
                422,
                "staff_not_found",
            )
            # the real refusal of the card is still named when the staff member is right
            self.assertApiError(
                self.call("stamp", idempotency_key="c5", card=card, staff_pin_id=self.pin_anna.id, pin="1234"),
                422,
                "cooldown_active",
            )
        self.pin_cafe.invalidate_recordset()
        self.assertEqual(self.pin_cafe.sudo().failed_attempts, 0)

    def test_order_used_on_another_card_below_minimum(self):
        """The engine refuses an order already used on another card before it looks at the amount."""
        other = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        other.earn_points(10, order_ref="USED-1", shop_id=self.bakery.id)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("earn", idempotency_key="u1", card=self.card.card_number, amount=1, order_ref="USED-1"),
                422,
                "order_already_used",
            )
            self.assertApiError(
                self.call("earn", idempotency_key="u2", card=self.card.card_number, amount=1, order_ref="NEW-1"),
                422,
                "below_minimum_purchase",
            )

    def test_retry_with_whole_float_is_a_replay(self):
        """JSON has one kind of number: 8 and 8.0 are the same request."""
        params = {"card": self.card.card_number, "order_ref": "F-1", "idempotency_key": "float-1"}
        status, first, _r = self.call("earn", amount=8, **params)
        self.assertEqual(status, 200, first)
        status, again, _r = self.call("earn", amount=8.0, **params)
        self.assertEqual(status, 200, again)
        self.assertTrue(again["replayed"])
        self.assertEqual(again["transaction_id"], first["transaction_id"])
        with mute_logger("odoo.http"):
            self.assertApiError(self.call("earn", amount=8.5, **params), 409, "idempotency_conflict")
