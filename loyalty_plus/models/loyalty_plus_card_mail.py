import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.pil

from odoo import models
from odoo.tools import consteq
from odoo.tools.misc import hmac

QR_TOKEN_SCOPE = "loyalty_plus.card.qr"


class LoyaltyPlusCard(models.Model):
    """What the card's emails show: the QR code as an image a mail client can fetch, the link that
    opens the customer's account, the wallet buttons."""

    _inherit = "loyalty_plus.card"  # pylint: disable=consider-merging-classes-inherited

    def _get_portal_path(self):
        """The page of the customer's account that shows their cards (the website addon has one)."""
        return "/my"

    def _get_qr_access_token(self):
        """Signs the card's QR image address: only who has the card's email can fetch it."""
        self.ensure_one()
        return hmac(self.env(su=True), QR_TOKEN_SCOPE, (self.id, self.sudo().card_number))

    def _check_qr_access_token(self, token):
        self.ensure_one()
        return bool(token) and consteq(str(token), self._get_qr_access_token())

    def _get_mail_qr_url(self):
        """The address of the card's QR code as a PNG (mail clients do not show SVG nor data URIs);
        relative: the email's rendering makes it absolute on the merchant's website."""
        self.ensure_one()
        return f"/loyalty_plus/card/{self.id}/qr.png?{urlencode({'access_token': self._get_qr_access_token()})}"

    def _get_qr_png(self, box_size=8):
        """The card's QR code (what tills scan) as PNG bytes."""
        self.ensure_one()
        image = qrcode.make(
            self.sudo().qr_payload, image_factory=qrcode.image.pil.PilImage, box_size=box_size, border=2
        )
        stream = io.BytesIO()
        image.save(stream, "PNG")
        return stream.getvalue()

    def _prepare_account_invitation(self):
        """Give the customers of these cards who have no account yet an invitation (auth_signup's
        token), so that the welcome email can carry a link to set a password. No public sign-up is
        needed: the token opens /web/signup for this customer only."""
        partners_sudo = self.sudo().partner_id.filtered(lambda p: p.email and not p.user_ids and not p.signup_type)
        # an address that is already someone's login (a customer of another merchant) cannot sign up again
        partners_sudo.filtered(lambda p: not p._loyalty_plus_login_user()).signup_prepare()

    def _get_account_url(self):
        """Where the card's customer reaches their card online: the link to set a password (Odoo's
        signup token) while they have no account, the sign-in page once they have one. Relative."""
        self.ensure_one()
        partner_sudo = self.sudo().partner_id
        portal_path = self._get_portal_path()
        user_sudo = partner_sudo.user_ids[:1] or partner_sudo._loyalty_plus_login_user()
        if user_sudo or partner_sudo.signup_type != "signup":
            query = {"redirect": portal_path}
            if user_sudo:
                query["login"] = user_sudo.login
            return f"/web/login?{urlencode(query)}"
        urls = partner_sudo.with_context(relative_url=True)._get_signup_url_for_action(url=portal_path)
        return urls[partner_sudo.id]

    def _get_mail_values(self):
        """What the card's email templates show besides the card itself (a hook: addons add to it)."""
        self.ensure_one()
        card_sudo = self.sudo()
        program = card_sudo.program_id
        return {
            "color": program.primary_color or "#4F46E5",
            "text_color": program.secondary_color or "#FFFFFF",
            "card_number": self._get_formatted_number(),
            "qr_url": self._get_mail_qr_url(),
            "account_url": self._get_account_url(),
            "wallet_links": self._get_wallet_links(),
            "points_rate": program.has_points and program._get_points_rate_label(),
        }

    def _get_formatted_number(self):
        """The card number in groups of four digits, as people read it out."""
        self.ensure_one()
        number = self.sudo().card_number or ""
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
