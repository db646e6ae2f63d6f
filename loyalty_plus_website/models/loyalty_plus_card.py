import base64
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg

from odoo import models


class LoyaltyPlusCard(models.Model):
    _inherit = "loyalty_plus.card"

    def _get_qr_svg(self):
        """The card's QR code as an SVG document (what tills scan)."""
        self.ensure_one()
        image = qrcode.make(self.sudo().qr_payload, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
        return image.to_string(encoding="unicode")

    def _get_qr_svg_data_uri(self):
        self.ensure_one()
        return "data:image/svg+xml;base64," + base64.b64encode(self._get_qr_svg().encode()).decode()

    def _get_portal_path(self):
        return "/my/loyalty"

    def _get_referral_url(self):
        """The merchant's enrollment page, in the member's shop, with the member's code."""
        self.ensure_one()
        card = self.sudo()
        merchant = card.company_id
        if not merchant.loyalty_plus_slug:
            return super()._get_referral_url()
        url = merchant._loyalty_plus_enroll_url(card.shop_id)
        return f"{card.get_base_url()}{url}{'&' if '?' in url else '?'}{urlencode({'ref': card.referral_code})}"

    def _get_tier_progress(self):
        """Current tier, next tier and the points earned over 12 months towards it."""
        self.ensure_one()
        card = self.sudo()
        earned = card._get_points_earned_12_months() if card.program_id.has_points else 0
        next_tier = card.program_id.tier_ids.filtered(lambda t: t.threshold_points > earned).sorted("threshold_points")[
            :1
        ]
        percent = min(100, int(earned * 100 / next_tier.threshold_points)) if next_tier.threshold_points else 100
        return {
            "tier": card.tier_id,
            "next_tier": next_tier,
            "earned": earned,
            "missing": max(0, next_tier.threshold_points - earned) if next_tier else 0,
            "percent": percent,
        }

    def _get_stamps_percent(self):
        self.ensure_one()
        card = self.sudo()
        target = card.program_id.stamps_target or 1
        return min(100, int(card.stamp_count * 100 / target))

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Loyalty card %(number)s", number=self.sudo().card_number)
