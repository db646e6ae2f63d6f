import json
import logging

from werkzeug.exceptions import BadRequest

from odoo import models
from odoo.exceptions import ConcurrencyError
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..exceptions import LoyaltyPlusRefusal
from .loyalty_plus_api import API_PATH, CARD_BUSY_RETRY_AFTER, INTEGRATION_PATHS


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _authenticate(cls, endpoint):
        """Hold an integration's user to the Loyalty+ API.

        Its API key authenticates it like any internal user on every ``auth='bearer'`` route
        (JSON-2 on any model, ``/json/1``...): there its cashier rights would reach the engine's
        models and the customers directly, past the integration's allowed operations, rate limit
        and idempotency keys. Only the operations of ``loyalty_plus.api`` (which check all of these)
        and their documentation are left to it."""
        super()._authenticate(endpoint)
        uid = request.env.uid
        if (
            uid
            and request.httprequest.path not in INTEGRATION_PATHS
            and uid in request.env["loyalty_plus.integration"]._get_api_user_ids()
        ):
            raise LoyaltyPlusRefusal(
                "integration_api_only",
                request.env._(
                    "An integration's API key may only call the Loyalty+ API operations (%(path)s<operation>).",
                    path=API_PATH,
                ),
            )

    @classmethod
    def _dispatch(cls, endpoint):
        if request.dispatcher.routing_type == "json2" and request.httprequest.path.startswith(API_PATH):
            # JSON-2 puts the body's "context" on the model: keys such as default_points_balance or
            # active_test would reach the engine's create() and searches. An integration may only
            # choose the language of the messages.
            context = request.params.get("context")
            lang = context.get("lang") if isinstance(context, dict) else None
            installed = dict(request.env["res.lang"].get_installed())
            request.params["context"] = {"lang": lang} if isinstance(lang, str) and lang in installed else {}
        return super()._dispatch(endpoint)

    @classmethod
    def _handle_error(cls, exception):
        """JSON-2 errors of the integration API: a refusal answered with the HTTP status of its code
        (and ``Retry-After`` when it says when to retry), ``409 card_busy`` for a write that still
        collides after the server's retries, ``400`` for a body nested too deeply to parse, and
        never a traceback in the body (Odoo's default answer everywhere else)."""
        if request.dispatcher.routing_type != "json2":
            return super()._handle_error(exception)
        if isinstance(exception, LoyaltyPlusRefusal):
            # an expected answer, not a server fault: no traceback in the log
            exception.loglevel = logging.INFO
        on_api = request.httprequest.path.startswith(API_PATH)
        if on_api and isinstance(exception, (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, ConcurrencyError)):
            response = cls._loyalty_plus_card_busy(exception)
        elif on_api and isinstance(exception, RecursionError):
            # json.loads gives up on a body nested deeper than the interpreter's stack (thousands of
            # "["): bad input, answered like any other body that is not JSON
            exception.loglevel = logging.WARNING
            response = super()._handle_error(
                BadRequest(request.env._("The body is not valid JSON: it is nested too deeply."))
            )
        else:
            response = super()._handle_error(exception)
        if on_api or isinstance(exception, LoyaltyPlusRefusal):
            cls._loyalty_plus_strip_debug(response)
            retry_after = getattr(exception, "data", {}).get("retry_after")
            if retry_after:
                response.headers["Retry-After"] = str(retry_after)
        return response

    @classmethod
    def _loyalty_plus_card_busy(cls, exception):
        """Answer ``409 card_busy`` with ``Retry-After`` instead of a 500 when a call of the
        integration API still collides with concurrent writes (on the same card) after the server's
        retries (``odoo.service.model.retrying``): the client's retry with the same idempotency key
        is safe and will find the card free."""
        # an expected outcome under load, not a server fault: logged without the traceback
        exception.loglevel = logging.WARNING
        busy = LoyaltyPlusRefusal(
            "card_busy",
            request.env._(
                "The card is busy with other operations; retry in %(seconds)s seconds with the same idempotency key.",
                seconds=CARD_BUSY_RETRY_AFTER,
            ),
            retry_after=CARD_BUSY_RETRY_AFTER,
        )
        response = super()._handle_error(busy)
        response.headers["Retry-After"] = str(CARD_BUSY_RETRY_AFTER)
        return response

    @classmethod
    def _loyalty_plus_strip_debug(cls, response):
        """Empty the ``debug`` member of a JSON-2 error body: the API's clients are other companies'
        systems, and a Python traceback tells them the server's paths and code, not what to fix
        (``message`` and ``context.code`` do). The server's log keeps the traceback."""
        if response.mimetype != "application/json":
            return
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return
        if isinstance(body, dict) and body.get("debug"):
            body["debug"] = ""
            response.set_data(json.dumps(body, ensure_ascii=False, default=str))
