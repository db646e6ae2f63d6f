import json

from openapi_spec_validator import validate

from odoo.tests import HttpCase, tagged
from odoo.tools.misc import file_open

from odoo.addons.loyalty_plus.models.loyalty_plus_api import LoyaltyPlusApi


@tagged("post_install", "-at_install")
class TestApiOpenApi(HttpCase):
    def _checked_in(self):
        with file_open("loyalty_plus/static/api/openapi.json", "rb") as document:
            return document.read()

    def test_document_validates(self):
        document = json.loads(self._checked_in())
        validate(document)  # raises on an invalid OpenAPI document
        self.assertEqual(document["openapi"], "3.1.0")
        operations = {path.rsplit("/", 1)[1] for path in document["paths"]}
        public = {"lookup", "enroll", "earn", "stamp", "redeem", "void", "history"}
        self.assertEqual(operations, public)
        for name in public:
            self.assertTrue(callable(getattr(LoyaltyPlusApi, name)), name)
            operation = document["paths"][f"/json/2/loyalty_plus.api/{name}"]["post"]
            self.assertEqual(operation["responses"]["422"]["$ref"], "#/components/responses/Unprocessable")
        self.assertEqual(document["components"]["securitySchemes"]["apiKey"]["scheme"], "bearer")
        self.assertIn("code", document["components"]["schemas"]["Error"]["properties"]["context"]["properties"])
        responses = document["components"]["responses"]
        self.assertIn("card_busy", responses["Conflict"]["description"])
        self.assertIn("Retry-After", responses["Conflict"]["headers"])
        self.assertIn("Retry-After", responses["TooManyRequests"]["headers"])
        for name in ("enroll", "earn", "stamp", "redeem", "void"):
            operation = document["paths"][f"/json/2/loyalty_plus.api/{name}"]["post"]
            self.assertEqual(operation["responses"]["409"]["$ref"], "#/components/responses/Conflict")
        for name in public:
            operation = document["paths"][f"/json/2/loyalty_plus.api/{name}"]["post"]
            self.assertEqual(operation["responses"]["400"]["$ref"], "#/components/responses/BadRequest")
            request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            self.assertIs(document["components"]["schemas"][request]["additionalProperties"], False, request)

    def test_history_types_are_the_ledger_types(self):
        """Every type of ledger row a history answer can carry is in the document's enum."""

        def walk(node):
            if isinstance(node, dict):
                yield node
                for value in node.values():
                    yield from walk(value)
            elif isinstance(node, list):
                for value in node:
                    yield from walk(value)

        enums = [
            node["enum"]
            for node in walk(json.loads(self._checked_in()))
            if "enum" in node and "points_earned" in node["enum"]
        ]
        self.assertTrue(enums)
        ledger_types = set(self.env["loyalty_plus.transaction"]._fields["transaction_type"].get_values(self.env))
        for enum in enums:
            self.assertEqual(set(enum), ledger_types)

    def test_served_document_is_the_checked_in_one(self):
        response = self.url_open("/loyalty_plus/openapi.json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertEqual(response.content, self._checked_in())
        self.assertEqual(response.json()["info"]["title"], "Loyalty+ integration API")
