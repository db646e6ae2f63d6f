import hashlib
import logging

from odoo.exceptions import UserError, ValidationError
from odoo.http import Controller, request, route
from odoo.tools.translate import LazyTranslate

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal
from odoo.addons.loyalty_plus.models.res_partner import CONTROL_RE

from ..models.res_company import SLUG_RE

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

TEXT_FIELD_LABELS = {
    "first_name": _lt("First name"),
    "last_name": _lt("Last name"),
    "email": _lt("Email"),
    "phone": _lt("Phone"),
    "birthday": _lt("Birthday"),
    "lang": _lt("Language"),
}
HONEYPOT_FIELD = "website_homepage"
SESSION_KEY = "loyalty_plus_enrolled"
REFERRAL_CODE_MAX_LENGTH = 32


class LoyaltyPlusEnrollment(Controller):
    def _is_malformed_slug(self, slug):
        return not SLUG_RE.match(slug or "")

    def _render_malformed_slug(self):
        """A 404 of our own for a link name no merchant can have: Odoo's 404 handler looks the
        requested path up in the database, where a NUL in it is an error (a 500)."""
        return request.render(
            "loyalty_plus_website.enrollment_message",
            {
                "title": request.env._("Page not found"),
                "message": request.env._(
                    "This enrollment link does not exist: check the address, or scan the shop's QR code again."
                ),
            },
            status=404,
        )

    def _get_merchant_sudo(self, slug):
        """The merchant whose enrollment link name is ``slug``."""
        return (
            request.env["res.company"]
            .sudo()
            .search([("loyalty_plus_slug", "=", slug), ("parent_id", "=", False)], limit=1)
        )

    def _get_merchant_and_program(self, slug):
        """The merchant of ``slug`` and its active program, or ``(None, None)``."""
        merchant_sudo = self._get_merchant_sudo(slug)
        if not merchant_sudo or not merchant_sudo.loyalty_plus_self_enrollment:
            return None, None
        program_sudo = request.env["loyalty_plus.program"].sudo()._get_for_shop(merchant_sudo)
        if not program_sudo:
            return None, None
        return merchant_sudo, program_sudo

    def _get_shop(self, merchant_sudo, shop):
        """The shop of the counter's QR code, the merchant itself when none is given, None when foreign."""
        if not shop:
            return merchant_sudo
        try:
            shop_sudo = request.env["res.company"].sudo().browse(int(shop)).exists()
        except (TypeError, ValueError):
            return None
        if not shop_sudo or not shop_sudo._loyalty_plus_is_shop_of(merchant_sudo):
            return None
        return shop_sudo

    def _get_languages(self):
        return request.env["res.lang"].get_installed()

    def _validate(self, post):
        """``(values, errors)``: cleaned values and a message per invalid field. The customer's
        details follow the engine's rules (``res.partner._loyalty_plus_member_errors``); the form
        adds what a visitor must fill in."""
        values = {
            "first_name": (post.get("first_name") or "").strip(),
            "last_name": (post.get("last_name") or "").strip(),
            "email": (post.get("email") or "").strip().lower(),
            "phone": (post.get("phone") or "").strip(),
            "birthday": (post.get("birthday") or "").strip(),
            "lang": post.get("lang") or "",
            "terms": bool(post.get("terms")),
            "marketing": bool(post.get("marketing")),
            "ref": self._get_referral_code(post),
        }
        control_errors = {}
        for name, label in TEXT_FIELD_LABELS.items():
            if CONTROL_RE.search(values[name]):
                # taken out before the page shows the value back: the visitor still has to look
                values[name] = CONTROL_RE.sub("", values[name]).strip()
                control_errors[name] = request.env._(
                    "%(field)s contained invisible control characters. We removed them: check it and send "
                    "the form again.",
                    field=request.env._(label),
                )
        errors = {}
        if not values["first_name"]:
            errors["first_name"] = request.env._("Enter your first name.")
        if not values["last_name"]:
            errors["last_name"] = request.env._("Enter your last name.")
        if not values["email"]:
            errors["email"] = request.env._("Enter your email address.")
        if not values["phone"]:
            errors["phone"] = request.env._("Enter your phone number.")
        if values["lang"] not in dict(self._get_languages()):
            errors["lang"] = request.env._("Choose a language from the list.")
        if not values["terms"]:
            errors["terms"] = request.env._("Accept the program terms to join.")
        member, member_errors = request.env["res.partner"]._loyalty_plus_member_errors(
            f"{values['first_name']} {values['last_name']}".strip(),
            values["email"],
            phone=values["phone"],
            lang=values["lang"] or None,
            birthday=values["birthday"] or None,
        )
        values["birthday"] = member["birthday"]
        for field, form_field in (
            ("name", "last_name"),
            ("email", "email"),
            ("phone", "phone"),
            ("birthday", "birthday"),
        ):
            if field in member_errors:
                errors.setdefault(form_field, member_errors[field])
        errors.update(control_errors)
        return values, errors

    def _render_form(self, merchant_sudo, program_sudo, shop_sudo, values=None, errors=None, status=200):
        values = values or {}
        if not values.get("lang"):
            values["lang"] = request.env.lang
        return request.render(
            "loyalty_plus_website.enrollment_page",
            {
                "merchant": merchant_sudo,
                "program": program_sudo,
                "shop": shop_sudo,
                "values": values,
                "errors": errors or {},
                "languages": self._get_languages(),
                "honeypot_field": HONEYPOT_FIELD,
                "action_url": merchant_sudo._loyalty_plus_enroll_url(shop_sudo),
                "invitation": self._get_invitation(program_sudo, values.get("ref")),
            },
            status=status,
        )

    def _get_invitation(self, program_sudo, code):
        """What the join page tells a friend who came with an invitation ``code``: who invited them
        (first name only: the page is public) and, when the program offers one, their bonus on the
        first purchase. None for a code of no active member of this program: an old link shows the
        plain page."""
        referrer_sudo = request.env["loyalty_plus.card"]._get_referrer_by_code(code, program_sudo)
        names = (referrer_sudo.partner_id.name or "").split() if referrer_sudo else []
        if not names:
            return None
        bonus = program_sudo._format_referral_bonus(
            program_sudo.referred_bonus_points, program_sudo.referred_bonus_stamps
        )
        return {
            "title": request.env._("%(name)s invited you", name=names[0]),
            "offer": bonus and request.env._("Join now and get %(bonus)s with your first purchase.", bonus=bonus),
        }

    @route(
        "/loyalty/<string:slug>/join",
        type="http",
        auth="public",
        website=True,
        methods=["GET", "POST"],
        sitemap=False,
    )
    def loyalty_plus_join(self, slug, shop=None, **post):
        if self._is_malformed_slug(slug):
            return self._render_malformed_slug()
        merchant_sudo, program_sudo = self._get_merchant_and_program(slug)
        if not merchant_sudo:
            raise request.not_found()
        shop_sudo = self._get_shop(merchant_sudo, shop)
        if shop_sudo is None:
            raise request.not_found()
        if request.httprequest.method != "POST":
            # a friend's invitation link: its code goes along with the form
            return self._render_form(merchant_sudo, program_sudo, shop_sudo, {"ref": self._get_referral_code(post)})

        ip_address = request.httprequest.remote_addr or "unknown"
        RateLimit = request.env["loyalty_plus.rate_limit"]
        try:
            # every submission counts for its address; a customer correcting the form is no script
            RateLimit._check_enrollment(ip_address=ip_address)
        except LoyaltyPlusRefusal as refusal:
            return self._render_rate_limited(merchant_sudo, refusal)
        if post.get(HONEYPOT_FIELD):
            _logger.info("Loyalty+ enrollment refused: honeypot filled from %s", ip_address)
            return request.render(
                "loyalty_plus_website.enrollment_message",
                {
                    "merchant": merchant_sudo,
                    "title": request.env._("Request refused"),
                    "message": request.env._("Your request could not be processed."),
                },
                status=400,
            )

        values, errors = self._validate(post)
        if errors:
            return self._render_form(merchant_sudo, program_sudo, shop_sudo, values, errors, status=400)
        try:
            # the enrollments asked for one email address, and from one browser, are few
            RateLimit._check_enrollment(email=values["email"], device=self._get_device_key())
        except LoyaltyPlusRefusal as refusal:
            return self._render_rate_limited(merchant_sudo, refusal)
        # the page offers to set a password only to a customer this very submission creates: an
        # existing customer's account is reached through their own mailbox
        new_customer = not request.env["res.partner"]._loyalty_plus_find_member(values["email"], merchant=merchant_sudo)
        try:
            # one savepoint: a refusal leaves neither a partner nor a card behind
            with request.env.cr.savepoint():
                card_sudo, created = self._enroll(program_sudo, shop_sudo, values)
        except (UserError, ValidationError) as error:
            return self._render_form(
                merchant_sudo, program_sudo, shop_sudo, values, {"form": error.args[0]}, status=400
            )
        if created and values["ref"]:
            self._register_referral(card_sudo, values["ref"])
        request.session[SESSION_KEY] = {
            "card_id": card_sudo.id,
            "created": created,
            "shop_id": shop_sudo.id,
            "invite": created and new_customer,
        }
        return request.redirect(f"/loyalty/{slug}/welcome")

    def _render_rate_limited(self, merchant_sudo, refusal):
        response = request.render(
            "loyalty_plus_website.enrollment_message",
            {"merchant": merchant_sudo, "title": request.env._("Too many attempts"), "message": refusal.args[0]},
            status=429,
        )
        response.headers["Retry-After"] = str(refusal.data.get("retry_after", 60))
        return response

    def _get_referral_code(self, post):
        """The invitation code the visitor came with (``?ref=``), as typed: the engine reads it."""
        return CONTROL_RE.sub("", str(post.get("ref") or "")).strip()[:REFERRAL_CODE_MAX_LENGTH]

    def _register_referral(self, card_sudo, code):
        """Record who invited the new member; an unknown code loses nothing but the invitation."""
        _referral, refusal = card_sudo._try_register_referral(code)
        if refusal:
            _logger.info("Loyalty+ enrollment of card %s: invitation not recorded (%s)", card_sudo.id, refusal.code)

    def _get_device_key(self):
        """An id of the visitor's browser (its session), hashed: session ids are secrets."""
        sid = request.session.sid or ""
        return hashlib.sha256(sid.encode()).hexdigest()[:32] if sid else None

    def _enroll(self, program_sudo, shop_sudo, values):
        """The engine's enrollment (the till's and the API's), for an anonymous visitor:
        ``(card_sudo, created)``. An existing customer is found by email and never changed."""
        return (
            request.env["loyalty_plus.card"]
            .sudo()
            ._enroll_customer(
                {
                    "name": f"{values['first_name']} {values['last_name']}",
                    "email": values["email"],
                    "phone": values["phone"],
                    "birthday": values["birthday"],
                    "lang": values["lang"],
                },
                shop_sudo,
                marketing_consent=values["marketing"],
                program=program_sudo,
            )
        )

    @route("/loyalty/<string:slug>/welcome", type="http", auth="public", website=True, sitemap=False)
    def loyalty_plus_welcome(self, slug):
        if self._is_malformed_slug(slug):
            return self._render_malformed_slug()
        merchant_sudo, program_sudo = self._get_merchant_and_program(slug)
        enrolled = request.session.get(SESSION_KEY) or {}
        if not merchant_sudo or not enrolled:
            return request.redirect(f"/loyalty/{slug}/join" if merchant_sudo else "/")
        card_sudo = (
            request.env["loyalty_plus.card"]
            .sudo()
            .search([("id", "=", enrolled.get("card_id")), ("company_id", "=", merchant_sudo.id)], limit=1)
        )
        if not card_sudo:
            return request.redirect(f"/loyalty/{slug}/join")
        shop_sudo = request.env["res.company"].sudo().browse(enrolled.get("shop_id")).exists() or merchant_sudo
        values = {
            "merchant": merchant_sudo,
            "program": program_sudo,
            "shop": shop_sudo,
            "created": enrolled.get("created"),
            # only a signed-in customer has an account page to go to
            "signed_in": not request.env.user._is_public(),
            "cross_location": merchant_sudo.loyalty_plus_cross_location,
            "shops": merchant_sudo._loyalty_plus_get_shops(),
        }
        if enrolled.get("created"):
            # only a card made by this very submission is shown; an existing one stays private
            values.update(
                card=card_sudo,
                qr_data_uri=card_sudo._get_qr_svg_data_uri(),
                wallet_links=card_sudo._get_wallet_links(),
            )
        partner_sudo = card_sudo.partner_id
        if enrolled.get("invite") and not values["signed_in"] and partner_sudo.signup_type == "signup":
            # the engine's invitation (none for an address that is already someone's login)
            values["account_url"] = card_sudo._get_account_url()
        return request.render("loyalty_plus_website.enrollment_success", values)

    @route("/loyalty/<string:slug>/terms", type="http", auth="public", website=True, sitemap=False)
    def loyalty_plus_terms(self, slug):
        if self._is_malformed_slug(slug):
            return self._render_malformed_slug()
        merchant_sudo = self._get_merchant_sudo(slug)
        program_sudo = merchant_sudo and request.env["loyalty_plus.program"].sudo()._get_for_shop(merchant_sudo)
        if not program_sudo:
            raise request.not_found()
        if program_sudo.terms_page_id.is_published:
            return request.redirect(program_sudo.terms_page_id.url)
        return request.render(
            "loyalty_plus_website.program_terms", {"merchant": merchant_sudo, "program": program_sudo}
        )

    @route("/rewards-catalog", type="http", auth="public", website=True)
    def loyalty_plus_rewards_catalog(self):
        merchant_sudo = request.website.company_id.root_id.sudo()
        program_sudo = request.env["loyalty_plus.program"].sudo()._get_for_shop(merchant_sudo)
        return request.render(
            "loyalty_plus_website.rewards_catalog_page",
            {
                "merchant": merchant_sudo,
                "program": program_sudo,
                "rewards": program_sudo._get_available_rewards() if program_sudo.has_points else [],
            },
        )
