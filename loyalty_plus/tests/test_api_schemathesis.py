import json
import uuid

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from odoo.tests import get_db_name, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.tests.test_api_http import LoyaltyPlusApiHttpCase

# Examples per operation and generation mode: 7 operations x 2 modes x 25 calls take about a minute.
EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@tagged("post_install", "-at_install")
class TestApiSchemathesis(LoyaltyPlusApiHttpCase):
    """Schemathesis against the live test server: calls generated from the served OpenAPI document,
    valid and invalid, answered without a 5xx and as the document describes (status, headers, body)."""

    # generated values that would make a "real" call fail for this database's sake only
    UNREAL = ("shop_id", "staff_pin_id", "pin", "currency", "lang", "birthday", "phone", "offset")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration.rate_limit_per_minute = 1_000_000
        # the engine's per-user and per-IP limits would answer most generated writes with 429
        for action in ("stamp", "redeem", "void", "earn", "enroll", "adjust"):
            cls.env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", "0")
        cls.program.write({"require_staff_pin": False, "stamp_cooldown_minutes": 0, "max_stamps_per_day": 0})
        seed = cls.card.earn_points(500, order_ref="SCHEMA-SEED", shop_id=cls.bakery.id)
        cls.seed_transaction_id = seed["transaction_id"]
        cls.cards = [cls.card.card_number, cls.card.qr_payload, "lea@example.com", cls.cafe_card.card_number]

    def _load_schema(self):
        response = self.url_open("/loyalty_plus/openapi.json")
        self.assertEqual(response.status_code, 200)
        schema = schemathesis.openapi.from_dict(response.json())
        schema.validate()
        return schema

    def _realistic(self, case_strategy):
        """Half of the generated calls are made valid for this database (a real card, reward and
        transaction, a fresh idempotency key, a plausible amount), so that the success answers are
        checked against the document too, not only the refusals."""

        def substitute(args):
            case, use_real, card, amount = args
            if use_real and isinstance(case.body, dict):
                body = {key: value for key, value in case.body.items() if key not in self.UNREAL}
                real = {
                    "card": card,
                    "query": card,
                    "idempotency_key": uuid.uuid4().hex,
                    "order_ref": uuid.uuid4().hex,
                    "amount": amount,
                    "reward_id": self.reward.id,
                    "transaction_id": self.seed_transaction_id,
                    "email": f"{uuid.uuid4().hex[:12]}@example.com",
                }
                body.update({key: value for key, value in real.items() if key in case.body})
                if "stamps" in body and "reward_id" in body:
                    body["stamps"] = False
                case.body = body
            return case

        return st.tuples(
            case_strategy,
            st.booleans(),
            st.sampled_from(self.cards),
            st.sampled_from([3, 12.5, 40]),
        ).map(substitute)

    def _run_operation(self, operation, mode, failures, statuses):
        headers = {"Authorization": f"bearer {self.key}", "X-Odoo-Database": get_db_name()}
        strategy = operation.as_strategy(generation_mode=mode, headers={"X-Odoo-Database": get_db_name()})
        if mode == schemathesis.GenerationMode.POSITIVE:
            strategy = self._realistic(strategy)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case):
            response = case.call(base_url=self.base_url(), session=self.opener, headers=headers, timeout=30)
            statuses.append(response.status_code)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as error:  # all are reported at the end
                failures.append(
                    f"{operation.label} [{mode}] {json.dumps(case.body, default=str)[:300]} -> "
                    f"{response.status_code} {response.text[:300]}\n{error}"
                )

        call()

    def test_no_server_error_and_answers_match_the_document(self):
        schema = self._load_schema()
        operations = [result.ok() for result in schema.get_all_operations()]
        self.assertEqual(len(operations), 7)
        failures, statuses = [], []
        with mute_logger("odoo.http", "odoo.sql_db"):
            for operation in operations:
                for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                    self._run_operation(operation, mode, failures, statuses)
        self.assertFalse(failures, "\n\n".join(failures[:20]))
        self.assertGreaterEqual(len(statuses), 7 * EXAMPLES)
        self.assertIn(200, statuses, "some generated calls succeeded")
        self.assertTrue({404, 422} & set(statuses), "some generated calls were refused")
