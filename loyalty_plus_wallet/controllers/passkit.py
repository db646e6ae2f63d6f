"""Apple's PassKit web service, version 1: devices register passes, ask what changed, fetch passes."""

import hmac
import json
import logging
import re
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime

from odoo import http
from odoo.http import request
from odoo.tools import SQL

from ..models.loyalty_plus_wallet_pass import APPLE_SERVICE_PREFIX
from ..tools.certificates import CredentialError
from ..tools.pkpass import PKPASS_MIMETYPE

_logger = logging.getLogger(__name__)

ROUTE_OPTIONS = {"type": "http", "auth": "public", "csrf": False, "save_session": False}
DEVICE = "/v1/devices/<string:device_id>/registrations/<string:pass_type_id>"
# APNs device tokens are hex; anything else would end up in the push URL (a newline makes httpx
# refuse the request) or in SQL (a NUL byte makes psycopg2 refuse the query)
PUSH_TOKEN_RE = re.compile(r"[0-9a-fA-F]{32,200}")
IDENTIFIER_RE = re.compile(r"[0-9A-Za-z._-]{1,200}")


def _json(data, status=200):
    return request.make_json_response(data, status=status)


def _empty(status):
    return request.make_response("", status=status)


class PassKitWebService(http.Controller):
    def _find_pass_sudo(self, pass_type_id, serial_number):
        """The pass of this serial when its merchant signs passes with this pass type id."""
        if not (IDENTIFIER_RE.fullmatch(serial_number) and IDENTIFIER_RE.fullmatch(pass_type_id)):
            return request.env["loyalty_plus.wallet_pass"].sudo()
        pass_sudo = request.env["loyalty_plus.wallet_pass"].sudo().search([("serial_number", "=", serial_number)])
        merchant = pass_sudo.card_id.company_id
        if not pass_sudo or (merchant.loyalty_plus_wallet_apple_pass_type_id or "").strip() != pass_type_id:
            return request.env["loyalty_plus.wallet_pass"].sudo()
        return pass_sudo

    def _authorized_pass_sudo(self, pass_type_id, serial_number):
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        pass_sudo = self._find_pass_sudo(pass_type_id, serial_number)
        expected = pass_sudo.authentication_token if pass_sudo else "-" * 40
        # compare even for unknown serials so that timing tells nothing
        ok = hmac.compare_digest(token.strip().encode(), expected.encode())
        return pass_sudo if (pass_sudo and scheme == "ApplePass" and ok) else None

    @http.route(f"{APPLE_SERVICE_PREFIX}{DEVICE}/<string:serial_number>", methods=["POST"], **ROUTE_OPTIONS)
    def register_device(self, device_id, pass_type_id, serial_number, **kwargs):
        pass_sudo = self._authorized_pass_sudo(pass_type_id, serial_number)
        if not pass_sudo:
            return _empty(401)
        try:
            body = json.loads(request.httprequest.get_data() or b"{}")
            push_token = body.get("pushToken") if isinstance(body, dict) else None
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
            push_token = None
        if not isinstance(push_token, str) or not PUSH_TOKEN_RE.fullmatch(push_token):
            return _json({"error": request.env._("pushToken is missing or invalid.")}, status=400)
        if not IDENTIFIER_RE.fullmatch(device_id):
            return _json({"error": request.env._("The device library identifier is invalid.")}, status=400)
        request.env["loyalty_plus.wallet_registration"].flush_model()
        # an upsert: a device registering again only refreshes its push token
        rows = request.env.execute_query(
            SQL(
                """INSERT INTO loyalty_plus_wallet_registration
                        (pass_id, company_id, device_library_identifier, push_token,
                         create_uid, write_uid, create_date, write_date)
                   VALUES (%(pass)s, %(company)s, %(device)s, %(token)s, %(uid)s, %(uid)s,
                           now() at time zone 'UTC', now() at time zone 'UTC')
              ON CONFLICT (device_library_identifier, pass_id)
                DO UPDATE SET push_token = EXCLUDED.push_token, write_date = EXCLUDED.write_date
                RETURNING (xmax = 0)""",
                **{
                    "pass": pass_sudo.id,
                    "company": pass_sudo.company_id.id,
                    "device": device_id,
                    "token": push_token,
                    "uid": request.env.uid,
                },
            )
        )
        request.env["loyalty_plus.wallet_registration"].invalidate_model()
        pass_sudo.invalidate_recordset(["registration_ids"])
        return _empty(201 if rows[0][0] else 200)

    @http.route(f"{APPLE_SERVICE_PREFIX}{DEVICE}/<string:serial_number>", methods=["DELETE"], **ROUTE_OPTIONS)
    def unregister_device(self, device_id, pass_type_id, serial_number, **kwargs):
        pass_sudo = self._authorized_pass_sudo(pass_type_id, serial_number)
        if not pass_sudo:
            return _empty(401)
        pass_sudo.registration_ids.filtered(lambda r: r.device_library_identifier == device_id).unlink()
        return _empty(200)

    @http.route(f"{APPLE_SERVICE_PREFIX}{DEVICE}", methods=["GET"], readonly=True, **ROUTE_OPTIONS)
    def updated_serials(self, device_id, pass_type_id, passesUpdatedSince=None, **kwargs):
        if not IDENTIFIER_RE.fullmatch(device_id):
            return _empty(204)
        try:
            since = int(passesUpdatedSince or 0)
        except ValueError:
            since = 0
        registrations = (
            request.env["loyalty_plus.wallet_registration"]
            .sudo()
            .search([("device_library_identifier", "=", device_id), ("pass_id.update_tag", ">", since)])
        )
        passes = registrations.pass_id.filtered(
            lambda p: (p.company_id.loyalty_plus_wallet_apple_pass_type_id or "").strip() == pass_type_id
        )
        if not passes:
            return _empty(204)
        return _json(
            {
                "serialNumbers": sorted(passes.mapped("serial_number")),
                "lastUpdated": str(max(passes.mapped("update_tag"))),
            }
        )

    @http.route(
        f"{APPLE_SERVICE_PREFIX}/v1/passes/<string:pass_type_id>/<string:serial_number>",
        methods=["GET"],
        readonly=True,
        **ROUTE_OPTIONS,
    )
    def latest_pass(self, pass_type_id, serial_number, **kwargs):
        pass_sudo = self._authorized_pass_sudo(pass_type_id, serial_number)
        if not pass_sudo:
            return _empty(401)
        modified = pass_sudo.last_modified.replace(microsecond=0)
        since = request.httprequest.headers.get("If-Modified-Since")
        if since:
            try:
                since_date = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                since_date = None
            if since_date:
                # last_modified is naive UTC: bring the header's offset (+0200, EST, ...) to UTC first
                if since_date.tzinfo:
                    since_date = since_date.astimezone(UTC).replace(tzinfo=None)
                if modified <= since_date:
                    return _empty(304)
        try:
            data = pass_sudo._generate_pkpass()
        except CredentialError:
            _logger.warning("Wallet: cannot sign pass %s, the Apple credentials are broken", serial_number)
            return _empty(503)
        return request.make_response(
            data,
            headers=[
                ("Content-Type", PKPASS_MIMETYPE),
                ("Last-Modified", format_datetime(modified.replace(tzinfo=UTC), usegmt=True)),
                ("Cache-Control", "no-cache"),
            ],
        )

    @http.route(f"{APPLE_SERVICE_PREFIX}/v1/log", methods=["POST"], **ROUTE_OPTIONS)
    def device_log(self, **kwargs):
        try:
            logs = json.loads(request.httprequest.get_data() or b"{}").get("logs") or []
        except (ValueError, RecursionError, AttributeError):
            logs = []
        for line in logs[:20]:
            _logger.info("Wallet device log: %s", str(line)[:500])
        return _empty(200)
