from odoo import http
from odoo.http import request
from odoo.tools.misc import file_open

OPENAPI_PATH = "loyalty_plus/static/api/openapi.json"


class LoyaltyPlusOpenApi(http.Controller):
    @http.route("/loyalty_plus/openapi.json", type="http", auth="public", methods=["GET"], readonly=True, cors="*")
    def openapi(self):
        """The OpenAPI 3.1 document of the integration API (the checked-in file, as it is)."""
        with file_open(OPENAPI_PATH, "rb") as document:
            body = document.read()
        return request.make_response(
            body, headers=[("Content-Type", "application/json"), ("Cache-Control", "public, max-age=3600")]
        )
