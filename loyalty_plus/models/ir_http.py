import logging

from odoo import models
from odoo.exceptions import ConcurrencyError
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .loyalty_plus_api import API_PATH, CARD_BUSY_RETRY_AFTER, LoyaltyPlusApiError


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        """Answer ``409 card_busy`` with ``Retry-After`` instead of a 500 when a call of the
        integration API still collides with concurrent writes (on the same card) after the server's
        retries (``odoo.service.model.retrying``): the client's retry with the same idempotency key
        is safe and will find the card free."""
        if (
            isinstance(exception, (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, ConcurrencyError))
            and request.dispatcher.routing_type == "json2"
            and request.httprequest.path.startswith(API_PATH)
        ):
            # an expected outcome under load, not a server fault: logged without the traceback
            exception.loglevel = logging.WARNING
            busy = LoyaltyPlusApiError(
                "card_busy",
                request.env._(
                    "The card is busy with other operations; retry in %(seconds)s seconds with the same "
                    "idempotency key.",
                    seconds=CARD_BUSY_RETRY_AFTER,
                ),
                409,
            )
            busy.context["retry_after"] = CARD_BUSY_RETRY_AFTER
            response = super()._handle_error(busy)
            response.headers["Retry-After"] = str(CARD_BUSY_RETRY_AFTER)
            return response
        return super()._handle_error(exception)
