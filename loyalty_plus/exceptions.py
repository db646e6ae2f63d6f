from odoo.exceptions import UserError

# The HTTP status of each refusal code, for JSON-2 and the integration API: the one table (a code
# not listed is a 422, Unprocessable Entity).
HTTP_STATUS_BY_CODE = {
    "not_an_integration": 403,
    "integration_api_only": 403,
    "operation_not_allowed": 403,
    "shop_not_allowed": 403,
    "card_of_other_merchant": 403,
    "access_denied": 403,
    "plan_limit": 403,
    "card_not_found": 404,
    "transaction_not_found": 404,
    "idempotency_conflict": 409,
    "card_busy": 409,
    "rate_limited": 429,
}


class LoyaltyPlusRefusal(UserError):
    """An operation refused by one of the engine's rules, raised where the rule is checked.

    ``code`` is stable and machine-readable: the API answers it as ``context.code`` with the HTTP
    status of its table (``HTTP_STATUS_BY_CODE``), the till and the website show
    the translated message. ``data`` carries what a caller needs besides the message, such as
    ``retry_after`` (seconds) for ``rate_limited``; it is JSON-safe, since the API sends it along.
    """

    def __init__(self, code, message, **data):
        super().__init__(message)
        self.code = code
        self.data = data
        self.context = {"code": code, **data}
        self.http_status = HTTP_STATUS_BY_CODE.get(code, 422)
