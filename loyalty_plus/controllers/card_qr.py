from odoo import http
from odoo.http import request


class LoyaltyPlusCardQr(http.Controller):
    @http.route("/loyalty_plus/card/<int:card_id>/qr.png", type="http", auth="public", methods=["GET"], readonly=True)
    def card_qr_png(self, card_id, access_token=None):
        """The card's QR code for its emails: mail clients fetch images by address, without a
        session, so the address carries a signature of the card instead."""
        card_sudo = request.env["loyalty_plus.card"].sudo().browse(card_id).exists()
        if not card_sudo or not card_sudo.active or not card_sudo._check_qr_access_token(access_token):
            raise request.not_found()
        return request.make_response(
            card_sudo._get_qr_png(),
            headers=[("Content-Type", "image/png"), ("Cache-Control", "private, max-age=86400")],
        )
