"""Customer-facing wallet links: download the Apple pass, save the Google pass, the program logo."""

import base64
import hmac
import io
import logging

from PIL import Image
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..models.loyalty_plus_wallet_pass import ROUTE_PREFIX
from ..tools.certificates import CredentialError
from ..tools.google_wallet import GoogleWalletError
from ..tools.pkpass import PKPASS_MIMETYPE, render_images
from ..tools.retry import TransientError

_logger = logging.getLogger(__name__)


class WalletLinks(http.Controller):
    def _card_sudo(self, serial_number, signature):
        """The active card behind a signed wallet link (the signature stands for the owner's page)."""
        Pass = request.env["loyalty_plus.wallet_pass"]
        if not hmac.compare_digest(Pass._link_signature(serial_number), signature or ""):
            raise NotFound()
        card_sudo = request.env["loyalty_plus.card"].sudo().search([("card_number", "=", serial_number)], limit=1)
        if not card_sudo:
            raise NotFound()
        return card_sudo

    def _error_page(self, message, status=503):
        return request.make_response(message, headers=[("Content-Type", "text/plain; charset=utf-8")], status=status)

    @http.route(
        f"{ROUTE_PREFIX}/apple/pass/<string:serial_number>/<string:signature>.pkpass", type="http", auth="public"
    )
    def apple_pass(self, serial_number, signature, **kwargs):
        card_sudo = self._card_sudo(serial_number, signature)
        if not card_sudo.company_id._loyalty_plus_wallet_apple_ready():
            raise NotFound()
        pass_sudo = request.env["loyalty_plus.wallet_pass"]._get_for_card(card_sudo, create=True)
        try:
            data = pass_sudo._generate_pkpass()
        except CredentialError:
            _logger.warning("Wallet: cannot sign the pass of card %s, the Apple credentials are broken", serial_number)
            return self._error_page(request.env._("Apple Wallet passes are not available right now."))
        return request.make_response(
            data,
            headers=[
                ("Content-Type", PKPASS_MIMETYPE),
                ("Content-Disposition", f'attachment; filename="{serial_number}.pkpass"'),
                ("Cache-Control", "no-store"),
            ],
        )

    @http.route(f"{ROUTE_PREFIX}/google/<string:serial_number>/<string:signature>", type="http", auth="public")
    def google_save(self, serial_number, signature, **kwargs):
        card_sudo = self._card_sudo(serial_number, signature)
        if not card_sudo.company_id._loyalty_plus_wallet_google_ready():
            raise NotFound()
        pass_sudo = request.env["loyalty_plus.wallet_pass"]._get_for_card(card_sudo, create=True)
        try:
            url = pass_sudo._get_google_save_url()
        except (GoogleWalletError, TransientError) as error:
            _logger.warning("Wallet: Google Wallet refused card %s: %s", serial_number, error)
            return self._error_page(request.env._("Google Wallet is not reachable right now; try again later."))
        return request.redirect(url, code=303, local=False)

    @http.route(f"{ROUTE_PREFIX}/program/<int:program_id>/logo.png", type="http", auth="public", readonly=True)
    def program_logo(self, program_id, **kwargs):
        """The program logo as Google Wallet fetches it (a public URL, 660 px square)."""
        program_sudo = (
            request.env["loyalty_plus.program"].sudo().with_context(bin_size=False).browse(program_id).exists()
        )
        if not program_sudo:
            raise NotFound()
        images = render_images(
            logo=program_sudo.logo and base64.b64decode(program_sudo.logo),
            background=program_sudo.primary_color,
            foreground=program_sudo.secondary_color,
            letter=(program_sudo.card_name or program_sudo.name or "")[:1],
        )
        icon = Image.open(io.BytesIO(images["icon@3x.png"])).resize((660, 660), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        icon.save(out, format="PNG")
        return request.make_response(
            out.getvalue(), headers=[("Content-Type", "image/png"), ("Cache-Control", "public, max-age=3600")]
        )
