"""Customer-facing wallet links: download the Apple pass, save the Google pass, the program images."""

import base64
import hmac
import io
import logging

from PIL import Image, ImageOps
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from ..models.loyalty_plus_wallet_pass import ROUTE_PREFIX
from ..tools.certificates import CredentialError
from ..tools.google_wallet import GoogleWalletError
from ..tools.pkpass import PKPASS_MIMETYPE, render_images
from ..tools.retry import TransientError

_logger = logging.getLogger(__name__)

# Google Wallet shows the hero image at 1032 x 336 pixels
HERO_SIZE = (1032, 336)


class WalletLinks(http.Controller):
    def _card_sudo(self, serial_number, signature):
        """The active card behind a signed wallet link (the signature stands for the owner's page)."""
        Pass = request.env["loyalty_plus.wallet_pass"]
        # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a mismatch)
        if not hmac.compare_digest(Pass._link_signature(serial_number).encode(), (signature or "").encode()):
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
            client = card_sudo.company_id._loyalty_plus_wallet_google_client(interactive=True)
            url = pass_sudo._get_google_save_url(client)
        except TransientError as error:
            _logger.warning("Wallet: Google Wallet unreachable for card %s: %s", serial_number, error)
            pass_sudo._note_failure(f"Google Wallet save link: {error}")
            return self._error_page(request.env._("Google Wallet is not reachable right now; try again later."))
        except (GoogleWalletError, ValidationError) as error:
            # a refusal (bad credentials, issuer not allowed, invalid class): trying again cannot help,
            # the merchant must fix the settings; the error stays on the pass for them to see
            _logger.warning("Wallet: Google Wallet refused card %s: %s", serial_number, error)
            pass_sudo._note_failure(f"Google Wallet save link: {error}")
            return self._error_page(
                request.env._(
                    "Google Wallet refused to create this card: the shop's Google Wallet settings need "
                    "attention. Please let the shop know."
                ),
                status=502,
            )
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

    @http.route(f"{ROUTE_PREFIX}/program/<int:program_id>/hero.png", type="http", auth="public", readonly=True)
    def program_hero(self, program_id, **kwargs):
        """The program's hero image as Google Wallet fetches it for the class (a public URL)."""
        program_sudo = (
            request.env["loyalty_plus.program"].sudo().with_context(bin_size=False).browse(program_id).exists()
        )
        if not program_sudo.hero_image:
            raise NotFound()
        try:
            image = Image.open(io.BytesIO(base64.b64decode(program_sudo.hero_image))).convert("RGB")
        except (OSError, ValueError) as error:
            raise NotFound() from error
        out = io.BytesIO()
        ImageOps.fit(image, HERO_SIZE, Image.Resampling.LANCZOS).save(out, format="PNG")
        return request.make_response(
            out.getvalue(), headers=[("Content-Type", "image/png"), ("Cache-Control", "public, max-age=3600")]
        )
