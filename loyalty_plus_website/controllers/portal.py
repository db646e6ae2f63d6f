from werkzeug.exceptions import BadRequest

from odoo.fields import Domain
from odoo.http import request, route

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

HISTORY_PAGE_SIZE = 10


class LoyaltyPlusPortal(CustomerPortal):
    def _loyalty_plus_card_domain(self):
        """The cards the signed-in customer owns (their own and their company's contacts')."""
        commercial_partner = request.env.user.partner_id.commercial_partner_id
        return Domain("partner_id", "child_of", commercial_partner.id) & Domain("active", "=", True)

    def _loyalty_plus_get_card_sudo(self, card_id):
        """The card ``card_id`` when the signed-in customer owns it, else an empty recordset."""
        return (
            request.env["loyalty_plus.card"]
            .sudo()
            .search(Domain("id", "=", int(card_id)) & self._loyalty_plus_card_domain(), limit=1)
        )

    def _loyalty_plus_get_vouchers_sudo(self, card_sudo):
        """The card's voucher codes still to use, then the ones used (cancelled ones are gone)."""
        vouchers_sudo = (
            request.env["loyalty_plus.redemption"]
            .sudo()
            .search(Domain("card_id", "=", card_sudo.id) & Domain("state", "in", ["issued", "used"]))
        )
        return vouchers_sudo.sorted(lambda voucher: (voucher.state != "issued", -voucher.id))

    def _loyalty_plus_print_url(self, card_sudo):
        """The printable card: a PDF, or the same page in HTML (to print from the browser) when the
        server cannot make PDFs (no wkhtmltopdf)."""
        url = f"/my/loyalty/{card_sudo.id}/print"
        if request.env["ir.actions.report"].get_wkhtmltopdf_state() in ("install", "broken"):
            url += "?report_type=html"
        return url

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "loyalty_plus_card_count" in counters:
            values["loyalty_plus_card_count"] = (
                request.env["loyalty_plus.card"].sudo().search_count(self._loyalty_plus_card_domain())
            )
        return values

    @route("/my/loyalty", type="http", auth="user", website=True, readonly=True)
    def portal_my_loyalty_cards(self):
        cards_sudo = request.env["loyalty_plus.card"].sudo().search(self._loyalty_plus_card_domain())
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "loyalty_plus_cards",
                "cards": cards_sudo,
                "summaries": {card.id: card._get_summary() for card in cards_sudo},
                "tier_progress": {card.id: card._get_tier_progress() for card in cards_sudo},
            }
        )
        return request.render("loyalty_plus_website.portal_my_loyalty_cards", values)

    @route(
        ["/my/loyalty/<int:card_id>", "/my/loyalty/<int:card_id>/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_loyalty_card(self, card_id, page=1):
        card_sudo = self._loyalty_plus_get_card_sudo(card_id)
        if not card_sudo:
            raise request.not_found()
        Transaction_sudo = request.env["loyalty_plus.transaction"].sudo()
        pager = portal_pager(
            url=f"/my/loyalty/{card_sudo.id}",
            total=Transaction_sudo._count_visits(card_sudo),
            page=page,
            step=HISTORY_PAGE_SIZE,
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "loyalty_plus_card",
                "card": card_sudo,
                "summary": card_sudo._get_summary(),
                "tier_progress": card_sudo._get_tier_progress(),
                "qr_data_uri": card_sudo._get_qr_svg_data_uri(),
                "print_url": self._loyalty_plus_print_url(card_sudo),
                "wallet_links": card_sudo._get_wallet_links(),
                "visits": Transaction_sudo._get_visits(card_sudo, HISTORY_PAGE_SIZE, offset=pager["offset"]),
                "vouchers": self._loyalty_plus_get_vouchers_sudo(card_sudo),
                "pager": pager,
            }
        )
        return request.render("loyalty_plus_website.portal_my_loyalty_card", values)

    # not read-only: printing may build and store report assets
    @route("/my/loyalty/<int:card_id>/print", type="http", auth="user", website=True)
    def portal_my_loyalty_card_print(self, card_id, report_type="pdf", download=False):
        card_sudo = self._loyalty_plus_get_card_sudo(card_id)
        if not card_sudo:
            raise request.not_found()
        if report_type not in ("pdf", "html"):
            raise BadRequest(request.env._("Choose a PDF or an HTML card."))
        return self._show_report(
            model=card_sudo,
            report_type=report_type,
            report_ref="loyalty_plus_website.loyalty_plus_card_report",
            download=download,
        )
