import math

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request

from ..exceptions import HTTP_STATUS_BY_CODE, LoyaltyPlusRefusal  # noqa: F401 - the API's table
from .loyalty_plus_integration import OPERATION_FIELDS

API_PATH = "/json/2/loyalty_plus.api/"
# The only routes an integration's user may call: the operations and their documentation.
INTEGRATION_PATHS = frozenset(
    [
        *(f"{API_PATH}{operation}" for operation in OPERATION_FIELDS),
        "/doc-bearer/index.json",
        "/doc-bearer/loyalty_plus.api.json",
    ]
)
# Read paths (replica-friendly): their calls are counted in batches, not with a write per call.
READ_OPERATIONS = frozenset({"lookup", "history"})
HISTORY_MAX_LIMIT = 100
IDEMPOTENCY_KEY_MAX_LENGTH = 255
# Record ids and offsets are PostgreSQL integers; larger numbers are refused before any query.
MAX_INTEGER = 2**31 - 1
# The largest purchase (or returned amount) one call may carry, in the program's currency.
MAX_AMOUNT = 1_000_000
# The most lines an order sent to ``earn`` may hold, and the keys of a line.
MAX_ORDER_LINES = 500
ORDER_LINE_KEYS = frozenset({"product_id", "qty", "price_incl", "price_excl"})
# Parameters that must be texts when given, with the most characters each may hold: a longer text
# is refused before any query, so that no index row overflows (order_ref) and no message repeats
# megabytes of input back. The OpenAPI document states the same maxLength.
TEXT_MAX_LENGTHS = {
    "idempotency_key": IDEMPOTENCY_KEY_MAX_LENGTH,
    "query": 255,
    "card": 255,
    "name": 255,
    "email": 254,
    "phone": 64,
    "birthday": 32,
    "lang": 16,
    "order_ref": 255,
    "currency": 16,
    "pin": 64,
    "note": 500,
    "referral_code": 32,
}
# Seconds a client is told to wait when its write still collides with others on the same card
# after the server's own retries (answered 409 card_busy by ir.http).
CARD_BUSY_RETRY_AFTER = 2


def _is_storable_text(text):
    """Whether PostgreSQL can store ``text``: no NUL character, valid UTF-8 (no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class LoyaltyPlusApi(models.AbstractModel):
    """Loyalty+ integration API, for tills, web shops and apps outside Odoo.

    Call it over JSON-2 with an API key of a Loyalty+ integration (Loyalty+ > Configuration >
    Integrations)::

        POST /json/2/loyalty_plus.api/<operation>
        Authorization: bearer <API key>
        Content-Type: application/json

        {"card": "LPC123456789012", "amount": 12.5, "order_ref": "WEB-1001",
         "idempotency_key": "9c1d0d1e-..."}

    Every write (enroll, earn, stamp, redeem, void) takes an ``idempotency_key`` chosen by the
    client: a retry with the same key and body returns the first answer (with
    ``"replayed": true``) and changes nothing; the same key with another body is refused with
    ``idempotency_conflict`` (HTTP 409).

    Success: HTTP 200 and ``{"ok": true, "card": {...}, ...}``. Refusal: an HTTP 4xx whose JSON
    body carries the stable error code in ``context.code`` and the translated text in ``message``.
    A write that still collides with simultaneous writes on the same card after the server's
    retries is answered ``409 card_busy`` with ``Retry-After``: send it again, same key.
    """

    _name = "loyalty_plus.api"
    _description = "Loyalty+ integration API"

    # ------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def lookup(self, query: str, shop_id: int | None = None) -> dict:
        """Find a card by its number, its QR payload, or its holder's email or phone.

        :param query: card number (12 digits, spaces allowed), QR payload ("LPC..."), email or phone
        :param shop_id: the shop asking (one of the integration's shops; default: its first shop)
        :return: ``{"ok": true, "card": summary}``; the summary holds the card number, the
            holder's first name, stamps and stamps target, points, tier and the rewards with
            ``redeemable``.
        :raise card_not_found: (404) no card of the merchant matches
        """
        _integration_sudo, shop = self._api_begin("lookup", shop_id, {"query": query})
        card = self._api_card(query, shop)
        return {"ok": True, "card": card._get_summary()}

    @api.model
    def enroll(
        self,
        idempotency_key: str,
        name: str,
        email: str,
        phone: str | None = None,
        birthday: str | None = None,
        marketing_consent: bool = False,
        lang: str | None = None,
        shop_id: int | None = None,
        referral_code: str | None = None,
    ) -> dict:
        """Enroll a customer, with the website's rules: the customer is found by email or
        created, an existing card of the merchant is returned instead of a second one, the
        terms are accepted now, the welcome bonus is granted to a new card.

        :param idempotency_key: chosen by the client, unique per write (up to 255 characters)
        :param name: the customer's full name
        :param email: the customer's email (identifies the customer)
        :param phone: optional phone number
        :param birthday: optional, ``YYYY-MM-DD``
        :param marketing_consent: the customer agreed to receive marketing emails
        :param lang: optional language code (``fr_FR``...)
        :param shop_id: the enrolling shop (default: the integration's first shop)
        :param referral_code: optional invitation code of the member who invited the customer
        :return: ``{"ok": true, "card": summary, "created": bool}``, with ``referral``
            (``{"state": "pending"|"refused"|"not_found", "reason": code|null}``) when a new card
            came with a ``referral_code``: an unknown code never refuses the enrollment
        """
        params = {
            "name": name,
            "email": email,
            "phone": phone,
            "birthday": birthday,
            "marketing_consent": marketing_consent,
            "lang": lang,
            "shop_id": shop_id,
            "referral_code": referral_code,
        }

        def operation(shop):
            if not isinstance(marketing_consent, bool):
                raise self._api_error("validation_error", self.env._("marketing_consent must be true or false."))
            Card = self.env["loyalty_plus.card"]
            Card.check_access("create")
            card, created = Card._enroll_customer(
                {"name": name, "email": email, "phone": phone, "birthday": birthday, "lang": lang},
                shop,
                marketing_consent=marketing_consent,
            )
            result = {"ok": True, "card": card._get_summary(), "created": created}
            if created and referral_code:
                result["referral"] = self._api_register_referral(card, referral_code)
            return result

        return self._api_write("enroll", idempotency_key, params, shop_id, operation)

    @api.model
    def earn(
        self,
        idempotency_key: str,
        card: str,
        order_ref: str,
        amount: float | None = None,
        lines: list[dict] | None = None,
        currency: str | None = None,
        shop_id: int | None = None,
        staff_pin_id: int | None = None,
        pin: str | None = None,
    ) -> dict:
        """Earn points for a purchase, given by its ``amount`` or by its ``lines`` (then the
        program's earning rules and campaigns read its products: excluded products earn nothing,
        categories earn their own rates). One order earns once: another call with the same
        ``order_ref`` returns the first answer. Stamps are given by ``stamp``.

        :param idempotency_key: chosen by the client, unique per write
        :param card: card number, QR payload, email or phone
        :param order_ref: the order's reference in the calling system
        :param amount: the purchase amount (above zero), without ``lines``
        :param lines: instead of ``amount``, the order's lines ``[{"product_id", "qty",
            "price_incl", "price_excl"}]``: line totals after discounts, loyalty lines left out
        :param currency: ISO code of ``amount`` (default: the program's currency)
        :param shop_id: the selling shop (default: the integration's first shop)
        :param staff_pin_id: optional staff member, with ``pin``
        :param pin: the staff member's PIN
        :return: ``{"ok": true, "card": summary, "transaction_id": int, "points": int}``: with
            ``lines``, the points of all the order's rows (rules and campaigns) and the first row
            (``null`` when no line earns)
        :raise below_minimum_purchase: the amount is below the program's minimum purchase
        """
        params = {
            "card": card,
            "amount": amount,
            "lines": lines,
            "order_ref": order_ref,
            "currency": currency,
            "shop_id": shop_id,
            "staff_pin_id": staff_pin_id,
            "pin": pin,
        }

        def operation(shop):
            if (amount is None) == (lines is None):
                raise self._api_error(
                    "validation_error", self.env._("Give either the amount or the lines of the purchase.")
                )
            if lines is None:
                self._api_amount(amount)
            else:
                self._api_lines(lines)
            if not isinstance(order_ref, str) or not order_ref.strip():
                raise self._api_error("validation_error", self.env._("The order reference is required."))
            currency_record = None
            if currency:
                currency_record = self.env["res.currency"].search([("name", "=", str(currency).upper())], limit=1)
                if not currency_record:
                    raise self._api_error(
                        "validation_error", self.env._("Unknown currency %(currency)s.", currency=currency)
                    )
            loyalty_card = self._api_card(card, shop)
            staff = loyalty_card._authorize(shop, staff_pin_id, pin, supports="points", pin_required=False)
            if lines is None:
                return loyalty_card._operation_result(
                    loyalty_card._earn(amount, shop, currency=currency_record, staff=staff, order_ref=order_ref.strip())
                )
            rows = loyalty_card._earn_order(
                lines, shop, currency=currency_record, staff=staff, order_ref=order_ref.strip(), include_stamps=False
            )
            if not rows:
                program = loyalty_card.sudo().program_id
                order = program._prepare_order(loyalty_card, program._normalize_lines(lines, currency_record), shop)
                program._check_minimum_purchase(order["base"])
            result = loyalty_card._operation_result(rows[:1])
            result.update(transaction_id=rows[:1].id or None, points=sum(rows.mapped("points_delta")))
            return result

        return self._api_write("earn", idempotency_key, params, shop_id, operation)

    @api.model
    def stamp(
        self,
        idempotency_key: str,
        card: str,
        shop_id: int | None = None,
        staff_pin_id: int | None = None,
        pin: str | None = None,
    ) -> dict:
        """Add one stamp to the card (with a staff PIN when the program requires one).

        :param idempotency_key: chosen by the client, unique per write
        :param card: card number, QR payload, email or phone
        :param shop_id: the shop stamping (default: the integration's first shop)
        :param staff_pin_id: the staff member (see the program's staff PINs)
        :param pin: the staff member's PIN
        :return: ``{"ok": true, "card": summary, "transaction_id": int, "reward_ready": bool}``
        :raise cooldown_active: the card was stamped too recently
        :raise daily_limit: the card reached the stamps allowed per day
        """
        params = {"card": card, "shop_id": shop_id, "staff_pin_id": staff_pin_id, "pin": pin}

        def operation(shop):
            loyalty_card = self._api_card(card, shop)
            staff = loyalty_card._authorize(shop, staff_pin_id, pin, supports="stamps")
            return loyalty_card._operation_result(loyalty_card._stamp(shop, staff))

        return self._api_write("stamp", idempotency_key, params, shop_id, operation)

    @api.model
    def redeem(
        self,
        idempotency_key: str,
        card: str,
        reward_id: int | None = None,
        stamps: bool = False,
        order_ref: str | None = None,
        shop_id: int | None = None,
        staff_pin_id: int | None = None,
        pin: str | None = None,
    ) -> dict:
        """Redeem a reward of the catalog with points (``reward_id``) or a full stamp card
        (``stamps: true``). Returns the one-time redemption code to honour.

        :param idempotency_key: chosen by the client, unique per write
        :param card: card number, QR payload, email or phone
        :param reward_id: the reward (see ``rewards`` in the card summary)
        :param stamps: true to redeem the stamp card's reward instead
        :param order_ref: optional order reference in the calling system
        :param shop_id: the redeeming shop (default: the integration's first shop)
        :param staff_pin_id: the staff member, when the program requires one
        :param pin: the staff member's PIN
        :return: ``{"ok": true, "card": summary, "transaction_id": int, "code": str}``
        :raise insufficient_points: the card has too few points
        :raise insufficient_stamps: the stamp card is not full
        """
        params = {
            "card": card,
            "reward_id": reward_id,
            "stamps": stamps,
            "order_ref": order_ref,
            "shop_id": shop_id,
            "staff_pin_id": staff_pin_id,
            "pin": pin,
        }

        def operation(shop):
            if not isinstance(stamps, bool):
                raise self._api_error("validation_error", self.env._("stamps must be true or false."))
            if bool(reward_id) == bool(stamps):
                raise self._api_error(
                    "validation_error", self.env._("Redeem either a reward (reward_id) or the stamps (stamps: true).")
                )
            loyalty_card = self._api_card(card, shop)
            if stamps:
                staff = loyalty_card._authorize(shop, staff_pin_id, pin, supports="stamps")
                return loyalty_card._operation_result(*loyalty_card._redeem_stamps(shop, staff, order_ref=order_ref))
            reward = loyalty_card._get_reward(self._api_int(reward_id, "reward_id", minimum=1))
            staff = loyalty_card._authorize(
                shop, staff_pin_id, pin, supports="points", pin_required=False, reward=reward
            )
            return loyalty_card._operation_result(
                *loyalty_card._redeem_reward(reward, shop, staff, order_ref=order_ref)
            )

        return self._api_write("redeem", idempotency_key, params, shop_id, operation)

    @api.model
    def void(
        self,
        idempotency_key: str,
        transaction_id: int | None = None,
        order_ref: str | None = None,
        amount: float | None = None,
        note: str | None = None,
        shop_id: int | None = None,
        lines: list[dict] | None = None,
        remaining_lines: list[dict] | None = None,
    ) -> dict:
        """Void an earlier operation: by its ``transaction_id`` (any operation's answer has
        one) or, for a purchase, by its ``order_ref``. A purchase may be voided partially:
        by the ``amount`` returned (its points taken back in proportion), or, for a purchase
        earned by its lines, by the returned ``lines`` and the ``remaining_lines`` the order
        keeps (each rule's and campaign's points taken back for what the returned lines earned).
        Points are never taken below zero.

        :param idempotency_key: chosen by the client, unique per write
        :param transaction_id: the transaction to void
        :param order_ref: the order reference of an earlier ``earn``
        :param amount: the returned amount, for a partial void of a purchase
        :param note: optional reason
        :param shop_id: the shop voiding (default: the integration's first shop)
        :param lines: with ``order_ref``, instead of ``amount``: the returned lines, as ``earn``
            takes them
        :param remaining_lines: with ``lines``: the lines the order keeps (``[]`` when
            everything came back)
        :return: ``{"ok": true, "card": summary, "transaction_id": int}`` (with ``lines``, the
            first row written, or null when the return takes nothing back)
        :raise transaction_not_found: (404) no such transaction of the merchant
        """
        params = {
            "transaction_id": transaction_id,
            "order_ref": order_ref,
            "amount": amount,
            "note": note,
            "shop_id": shop_id,
            "lines": lines,
            "remaining_lines": remaining_lines,
        }

        def operation(shop):
            if bool(transaction_id) == bool(order_ref):
                raise self._api_error(
                    "validation_error", self.env._("Give either the transaction_id or the order_ref to void.")
                )
            if amount is not None:
                self._api_amount(amount)
            if lines is not None or remaining_lines is not None:
                if not order_ref or amount is not None or lines is None or remaining_lines is None:
                    raise self._api_error(
                        "validation_error",
                        self.env._(
                            "Give the order_ref with the returned lines and the remaining_lines the order keeps "
                            "(an empty list when everything came back), without amount."
                        ),
                    )
                self._api_lines(lines)
                self._api_lines(remaining_lines)
            Transaction = self.env["loyalty_plus.transaction"]
            domain = [("company_id", "=", shop.root_id.id)]
            if transaction_id:
                domain.append(("id", "=", self._api_int(transaction_id, "transaction_id", minimum=1)))
            else:
                domain += [("order_ref", "=", order_ref), ("transaction_type", "=", "points_earned")]
            transaction = Transaction.search(domain, limit=1)
            if not transaction:
                raise self._api_error(
                    "transaction_not_found",
                    self.env._("No such transaction for this merchant."),
                )
            if not order_ref:
                return transaction.void(amount=amount, note=note, shop_id=shop.id)
            if lines is not None:
                # the engine's own matching of lines to rules and campaigns, as for a till's refund
                transaction._check_void_allowed(shop.id)
                card = transaction.card_id
                written = card._void_order_earnings(order_ref.strip(), lines, remaining_lines, shop, note=note)
                return {"ok": True, "card": card._get_summary(), "transaction_id": written[:1].id or None}
            # An order earned by lines has a row per rate (the program's, each "points per euro"
            # rule's: together the order's amount), per multiplier rule and per campaign: each
            # gives back the returned share of the order.
            rows = Transaction.search(
                [domain[0], ("order_ref", "=", order_ref), ("transaction_type", "in", ("points_earned", "bonus"))],
                order="id",
            )
            rates = rows.filtered(
                lambda r: r.transaction_type == "points_earned" and r.earning_rule_id.rule_type != "points_multiplier"
            )
            base = sum(rates.mapped("amount")) or transaction.amount
            first = rates[:1] or transaction
            share = None if amount is None else min(float(amount) / base, 1.0) if base else 1.0
            # the first row through the public door: rights, void policy, rate limit, refusals
            result = first.void(amount=None if share is None else first.amount * share, note=note, shop_id=shop.id)
            for row in (rows - first).filtered("amount"):
                try:
                    with self.env.cr.savepoint():
                        row._void(
                            shop, amount=None if share is None else row.amount * share, note=note, up_to_remaining=True
                        )
                except LoyaltyPlusRefusal:
                    continue  # returned in full already
            return dict(result, card=first.card_id._get_summary())

        return self._api_write("void", idempotency_key, params, shop_id, operation)

    @api.model
    @api.readonly
    def history(self, card: str, offset: int = 0, limit: int = 20, shop_id: int | None = None) -> dict:
        """The card's ledger, newest first, a page at a time.

        :param card: card number, QR payload, email or phone
        :param offset: how many entries to skip
        :param limit: entries per page (1 to 100)
        :param shop_id: the shop asking (default: the integration's first shop)
        :return: ``{"ok": true, "card_number": str, "total": int, "offset": int, "limit": int,
            "items": [{"id", "date", "type", "stamps", "points", "points_after", "amount",
            "order_ref", "shop", "origin_transaction_id"}]}``
        """
        _integration_sudo, shop = self._api_begin("history", shop_id, {"card": card})
        offset = self._api_int(offset, "offset")
        limit = self._api_int(limit, "limit")
        if offset < 0 or not 1 <= limit <= HISTORY_MAX_LIMIT:
            raise self._api_error(
                "validation_error",
                self.env._("offset must be 0 or more and limit between 1 and %(max)s.", max=HISTORY_MAX_LIMIT),
            )
        loyalty_card = self._api_card(card, shop)
        Transaction = self.env["loyalty_plus.transaction"]
        domain = [("card_id", "=", loyalty_card.id)]
        entries = Transaction.search_fetch(
            domain,
            [
                "create_date",
                "transaction_type",
                "stamps_delta",
                "points_delta",
                "points_after",
                "amount",
                "order_ref",
                "shop_id",
                "origin_transaction_id",
            ],
            offset=offset,
            limit=limit,
            order="id desc",
        )
        return {
            "ok": True,
            "card_number": loyalty_card.card_number,
            "total": Transaction.search_count(domain),
            "offset": offset,
            "limit": limit,
            "items": [
                {
                    "id": entry.id,
                    "date": fields.Datetime.to_string(entry.create_date),
                    "type": entry.transaction_type,
                    "stamps": entry.stamps_delta,
                    "points": entry.points_delta,
                    "points_after": entry.points_after,
                    "amount": entry.amount,
                    "order_ref": entry.order_ref or None,
                    "shop": entry.shop_id.sudo().name,
                    "origin_transaction_id": entry.origin_transaction_id.id or None,
                }
                for entry in entries
            ],
        }

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _api_error(self, code, message):
        return LoyaltyPlusRefusal(code, message)

    @api.model
    def _api_int(self, value, name, minimum=0):
        """``value`` as an int between ``minimum`` and ``MAX_INTEGER``, else a validation error."""
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():  # JSON's 3.0 is the integer 3
            number = int(value)
        elif isinstance(value, str) and value.strip().isascii():
            try:
                number = int(value)
            except ValueError:
                number = None
        if number is None or not minimum <= number <= MAX_INTEGER:
            raise self._api_error(
                "validation_error",
                self.env._(
                    "%(name)s must be a whole number from %(minimum)s to %(maximum)s.",
                    name=name,
                    minimum=minimum,
                    maximum=MAX_INTEGER,
                ),
            )
        return number

    @api.model
    def _api_amount(self, amount):
        """Refuse an amount that is not a number above zero and at most ``MAX_AMOUNT``."""
        if (
            isinstance(amount, bool)
            or not isinstance(amount, (int, float))
            or not math.isfinite(amount)
            or not 0 < amount <= MAX_AMOUNT
        ):
            raise self._api_error(
                "validation_error",
                self.env._("The amount must be a number above 0 and at most %(maximum)s.", maximum=MAX_AMOUNT),
            )

    @api.model
    def _api_lines(self, lines):
        """Refuse order lines that are not a list of at most ``MAX_ORDER_LINES`` lines of a
        product id (or null), a quantity and prices within ``MAX_AMOUNT``, before any query."""
        if not isinstance(lines, list):
            raise self._api_error("validation_error", self.env._("The order lines must be a list."))
        if len(lines) > MAX_ORDER_LINES:
            raise self._api_error(
                "validation_error", self.env._("An order holds at most %(max)s lines.", max=MAX_ORDER_LINES)
            )
        for line in lines:
            if not isinstance(line, dict) or line.keys() - ORDER_LINE_KEYS or not {"qty", "price_incl"} <= line.keys():
                raise self._api_error(
                    "validation_error", self.env._("Each order line needs a product, a quantity and its prices.")
                )
            if line.get("product_id") is not None:
                self._api_int(line["product_id"], "product_id", minimum=1)
            for name in ("qty", "price_incl", "price_excl"):
                value = line.get(name, 0)
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not math.isfinite(value)
                    or abs(value) > MAX_AMOUNT
                ):
                    raise self._api_error("validation_error", self.env._("The order lines hold an invalid number."))

    @api.model
    def _api_check_parameters(self, params):
        """Refuse text parameters that are not texts, are too long, or hold characters a database
        cannot store (NUL, lone surrogates), and malformed ids, before they reach a query."""
        for name, value in params.items():
            if value is None:
                continue
            if name in TEXT_MAX_LENGTHS:
                if not isinstance(value, str):
                    raise self._api_error("validation_error", self.env._("%(name)s must be a text.", name=name))
                if len(value) > TEXT_MAX_LENGTHS[name]:
                    # the message names the parameter, never repeats its value
                    raise self._api_error(
                        "validation_error",
                        self.env._(
                            "%(name)s may hold at most %(max)s characters.", name=name, max=TEXT_MAX_LENGTHS[name]
                        ),
                    )
                if not _is_storable_text(value):
                    raise self._api_error(
                        "validation_error",
                        self.env._("%(name)s holds characters that are not allowed.", name=name),
                    )
            elif name == "staff_pin_id" and value is not False:
                self._api_int(value, name, minimum=1)

    @api.model
    def _api_begin(self, operation, shop_id, params=None):
        """The calling integration and the shop it acts for, once its rights and rate and the
        parameters ``params`` are checked."""
        Integration = self.env["loyalty_plus.integration"]
        profile = Integration._get_api_profile(self.env.uid)
        if not profile:
            raise self._api_error("not_an_integration", self.env._("Only Loyalty+ integrations can call this API."))
        integration_id, rate_limit, allowed, shop_ids = profile
        integration_sudo = Integration.sudo().browse(integration_id)
        try:
            self._api_check_rate(integration_sudo, rate_limit, readonly=operation in READ_OPERATIONS)
        except LoyaltyPlusRefusal:
            # counted per shop and operation for the health checks (read paths: in batches)
            shop = shop_id if isinstance(shop_id, int) and shop_id in shop_ids else (shop_ids[0] if shop_ids else False)
            self.env["loyalty_plus.rate_limit.refusal"]._count(
                self.env["res.company"].browse(shop), f"api:{operation}", readonly=operation in READ_OPERATIONS
            )
            raise
        if operation not in allowed:
            raise self._api_error(
                "operation_not_allowed",
                self.env._("This integration may not %(operation)s.", operation=operation),
            )
        self._api_check_parameters(params or {})
        if shop_id in (None, False, 0):
            shop_id = shop_ids[0] if shop_ids else 0
        else:
            shop_id = self._api_int(shop_id, "shop_id", minimum=1)
            if shop_id not in shop_ids:
                raise self._api_error("shop_not_allowed", self.env._("This integration may not act for this shop."))
        shop = self.env["res.company"].browse(shop_id or ())
        return integration_sudo, shop

    @api.model
    def _api_check_rate(self, integration_sudo, rate_limit, readonly=False):
        """Count the call in the integration's minute; refuse it over the integration's limit.

        The counter is the database's (``loyalty_plus.rate_limit``), so the limit holds for the whole
        server, however many worker processes serve the calls."""
        retry_after = self.env["loyalty_plus.rate_limit"]._count_hits(
            [(f"api:integration:{integration_sudo.id}", rate_limit)],
            readonly=readonly,  # lookups and history: counted in batches, no write per call
        )
        if request:
            # the engine's per-user and per-IP limits are for people at tills and on the website:
            # an integration is held to its own limit, counted once per call
            request.loyalty_plus_rate_counted = True
        if retry_after:
            raise LoyaltyPlusRefusal(
                "rate_limited",
                self.env._(
                    "Too many calls: %(limit)s per minute allowed; retry in %(seconds)s seconds.",
                    limit=rate_limit,
                    seconds=retry_after,
                ),
                retry_after=retry_after,
            )

    @api.model
    def _api_register_referral(self, card, referral_code):
        """Record who invited the new ``card``; what became of the invitation, for the answer."""
        referral, refusal = card._try_register_referral(referral_code)
        if refusal:
            return {"state": "not_found", "reason": refusal.code}
        return {"state": referral.state, "reason": referral.refusal_code or None}

    @api.model
    def _api_card(self, query, shop):
        """The card of the shop's merchant that ``query`` designates, else a refusal saying why."""
        if not isinstance(query, str) or not query.strip():
            raise self._api_error("validation_error", self.env._("Give a card number, QR code, email or phone."))
        return self.env["loyalty_plus.card"]._get_by_query(query, shop)

    @api.model
    def _api_write(self, operation, idempotency_key, params, shop_id, prepare):
        """Run a write once per idempotency key.

        ``prepare(shop)`` validates the call and runs the engine's operation, whose refusals carry
        their own codes; Odoo's untyped errors (rights, constraints) get a generic one.
        """
        integration_sudo, shop = self._api_begin(operation, shop_id, dict(params, idempotency_key=idempotency_key))
        if (
            not isinstance(idempotency_key, str)
            or not idempotency_key.strip()
            or len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH
        ):
            raise self._api_error(
                "validation_error",
                self.env._(
                    "idempotency_key must be a text of 1 to %(max)s characters.", max=IDEMPOTENCY_KEY_MAX_LENGTH
                ),
            )
        Idempotency = self.env["loyalty_plus.idempotency"].sudo()
        request_hash = Idempotency._hash_request(operation, params)
        row_id, stored = Idempotency._claim(integration_sudo, idempotency_key, operation, request_hash)
        if stored:
            if stored["request_hash"] != request_hash:
                raise self._api_error(
                    "idempotency_conflict",
                    self.env._("This idempotency key was already used for another request."),
                )
            return dict(stored["response"], replayed=True)
        try:
            result = prepare(shop)
        except LoyaltyPlusRefusal:
            raise
        except AccessError as error:
            raise self._api_error("access_denied", error.args[0]) from error
        except ValidationError as error:
            raise self._api_error("validation_error", error.args[0]) from error
        except UserError as error:
            raise self._api_error("operation_refused", error.args[0]) from error
        Idempotency._store_response(row_id, result)
        return result
