import base64
import json
import re
from datetime import date
from textwrap import shorten

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ConcurrencyError, UserError
from odoo.tools import SQL, email_normalize

from ..exceptions import LoyaltyPlusRefusal

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,25}$")
# C0 and C1 control characters: never part of a name, an address or a number, and PostgreSQL
# refuses a NUL in a string outright
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NAME_MAX = 128
EMAIL_MAX = 254  # RFC 5321
# what a card shows of its customer outside Odoo (a wallet pass)
CARD_MEMBER_FIELDS = {"name", "lang"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    # a till finds a member by phone number: one index lookup among a million customers
    phone = fields.Char(index="btree_not_null")
    loyalty_plus_card_ids = fields.One2many("loyalty_plus.card", "partner_id", string="Loyalty cards")
    loyalty_plus_card_count = fields.Integer(compute="_compute_loyalty_plus_card_count", string="Loyalty cards count")
    birthday = fields.Date()

    @api.depends("loyalty_plus_card_ids")
    def _compute_loyalty_plus_card_count(self):
        counts = dict(
            self.env["loyalty_plus.card"]._read_group(
                [("partner_id", "in", self.ids)], groupby=["partner_id"], aggregates=["__count"]
            )
        )
        for partner in self:
            partner.loyalty_plus_card_count = counts.get(partner._origin, 0)

    def write(self, vals):
        res = super().write(vals)
        if CARD_MEMBER_FIELDS & vals.keys():
            cards_sudo = self.sudo().with_context(active_test=False).loyalty_plus_card_ids
            if cards_sudo:
                cards_sudo._on_member_changed()
        return res

    def action_view_loyalty_plus_cards(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_card_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    @api.model
    def _loyalty_plus_check_birthday(self, birthday):
        """A real past date, for a customer between 6 and 120 years old."""
        if not birthday:
            return False
        try:
            birthday = fields.Date.to_date(birthday)
        except (TypeError, ValueError):
            raise LoyaltyPlusRefusal(
                "validation_error", self.env._("The birthday is not a valid date."), field="birthday"
            ) from None
        today = date.today()
        age = today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
        if birthday >= today or not 6 <= age <= 120:
            raise LoyaltyPlusRefusal(
                "validation_error",
                self.env._("The birthday must be a real date in the past (age 6 to 120)."),
                field="birthday",
            )
        return birthday

    @api.model
    def _loyalty_plus_normalize_phone(self, phone, country):
        """``phone`` in E.164 ("+352661781848"), read in the numbering plan of ``country`` (the
        merchant's), or False when it is no valid number: "661 781 848", "+352 661 781 848" and
        "00352661781848" are one number in Luxembourg, stored and searched in that one form."""
        if not phone:
            return False
        return self._phone_format_number(phone, country or self.env["res.country"], force_format="E164")

    @api.model
    def _loyalty_plus_phone_forms(self, query, country):
        """The stored forms of the number ``query`` designates: E.164 (what enrollment stores),
        and for customers recorded otherwise, the international form and the query as typed.
        Empty when ``query`` has no digit."""
        if not any(char.isdigit() for char in query):
            return []
        forms = {query}
        if e164 := self._loyalty_plus_normalize_phone(query, country):
            forms.add(e164)
            forms.add(self._phone_format_number(e164, country, force_format="INTERNATIONAL") or e164)
        return sorted(forms)

    @api.model
    def _loyalty_plus_member_errors(self, name, email, phone=None, lang=None, birthday=None, country=None):
        """``(values, errors)``: the customer's details cleaned, and a translated message per
        invalid field. The rules of every way in (website form, till, API). The phone number is
        read in ``country``'s numbering plan (the merchant's; else the current company's) and
        comes back in E.164."""
        values = {
            "name": (name or "").strip(),
            "email": (email or "").strip().lower(),
            "phone": (phone or "").strip(),
            "lang": lang or False,
            "birthday": False,
        }
        errors = {}
        for field in ("name", "email", "phone"):
            if CONTROL_RE.search(values[field]):
                errors[field] = self.env._("The customer's details cannot contain control characters.")
        if not values["name"]:
            errors["name"] = self.env._("The customer's name is required.")
        elif len(values["name"]) > NAME_MAX:
            errors["name"] = self.env._("The customer's name can have at most %(max)s characters.", max=NAME_MAX)
        email = values["email"]
        if not email:
            errors["email"] = self.env._("The customer's email is required.")
        elif len(email) > EMAIL_MAX or not EMAIL_RE.match(email) or email_normalize(email) != email:
            errors.setdefault(
                "email",
                self.env._(
                    "%(email)s is not a valid email address: enter one like name@example.com.",
                    email=shorten(email, 60, placeholder="…"),
                ),
            )
        phone = values["phone"]
        if phone and (not PHONE_RE.match(phone) or sum(char.isdigit() for char in phone) < 6):
            errors.setdefault(
                "phone", self.env._("Enter a phone number with at least 6 digits, like +352 621 123 456.")
            )
        if phone and "phone" not in errors:
            country = country or self.env.company._loyalty_plus_phone_country()
            values["phone"] = self._loyalty_plus_normalize_phone(phone, country)
            if not values["phone"]:
                values["phone"] = phone
                errors["phone"] = self.env._(
                    "%(phone)s is not a valid phone number: enter one like +352 621 123 456.",
                    phone=shorten(phone, 30, placeholder="…"),
                )
        if lang and lang not in dict(self.env["res.lang"].get_installed()):
            errors["lang"] = self.env._("%(lang)s is not a language of this database.", lang=shorten(lang, 20))
        try:
            values["birthday"] = self._loyalty_plus_check_birthday(birthday)
        except LoyaltyPlusRefusal as refusal:
            errors["birthday"] = refusal.args[0]
        return values, errors

    @api.model
    def _loyalty_plus_check_member_values(self, name, email, phone=None, lang=None, birthday=None, country=None):
        """The customer's details cleaned (see ``_loyalty_plus_member_errors``), or a refusal
        naming the first invalid field."""
        values, errors = self._loyalty_plus_member_errors(name, email, phone, lang, birthday, country=country)
        for field in ("name", "email", "phone", "lang", "birthday"):
            if field in errors:
                raise LoyaltyPlusRefusal("validation_error", errors[field], field=field)
        return values

    @api.model
    def _loyalty_plus_lock_email(self, email):
        """Serialize the enrollments of one email address, up to the commit.

        Two requests enrolling the same customer at once would each find no one and each create a
        customer and a card. The lock makes the second wait for the first; and since a transaction
        reads a snapshot taken at its start, it then compares what it sees with a fresh snapshot:
        if another transaction committed a customer or a card of this email meanwhile, the request
        starts again (Odoo retries on ``ConcurrencyError``). Call it before reading or creating."""
        self.env.cr.execute(
            SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", f"loyalty_plus.enroll:{email}")
        )
        state = SQL(
            """SELECT ARRAY(SELECT id FROM res_partner WHERE email_normalized = %(email)s ORDER BY id),
                      ARRAY(SELECT card.id FROM loyalty_plus_card card
                              JOIN res_partner partner ON partner.id = card.partner_id
                             WHERE partner.email_normalized = %(email)s ORDER BY card.id)""",
            email=email,
        )
        self.env.flush_all()
        self.env.cr.execute(state)
        seen_partners, seen_cards = self.env.cr.fetchone()
        with self.env.registry.cursor() as fresh_cr:
            fresh_cr.execute(state)
            partners, cards = fresh_cr.fetchone()
        # rows committed since this transaction's snapshot (its own uncommitted rows are no conflict)
        if set(partners) - set(seen_partners) or set(cards) - set(seen_cards):
            raise ConcurrencyError(f"another transaction enrolled {email} meanwhile")

    @api.model
    def _loyalty_plus_find_member(self, email, merchant=None):
        """The customer with this email (exact match: a typed email is not a pattern); with
        ``merchant``, only a shared contact or one of the merchant's own."""
        domain = [("email_normalized", "=", email_normalize(email) or email)]
        if merchant:
            domain.append(("company_id", "in", [False, merchant.id]))
        return self.sudo().search(domain, limit=1).with_env(self.env)

    def _loyalty_plus_login_user(self):
        """The user whose login is this customer's email address, if any (logins are unique)."""
        self.ensure_one()
        if not self.email_normalized:
            return self.env["res.users"]
        Users = self.env["res.users"].sudo().with_context(active_test=False)
        return Users.search(Users._get_login_domain(self.email_normalized), limit=1)

    def _loyalty_plus_find_or_create(self, name, email, phone=None, birthday=None, lang=None, merchant=None):
        """The customer with this email, or a new one. Validates what it is given.

        With ``merchant``, only shared contacts and the merchant's own are found, and a new one is
        the merchant's: another merchant's customers are neither revealed nor linked."""
        values = self._loyalty_plus_check_member_values(
            name, email, phone, lang, birthday, country=merchant._loyalty_plus_phone_country() if merchant else None
        )
        name, email, phone, birthday = values["name"], values["email"], values["phone"], values["birthday"]
        self._loyalty_plus_lock_email(email)
        # An existing customer is never changed from here: a stranger could otherwise attach their
        # phone number to someone else's record.
        partner = self._loyalty_plus_find_member(email, merchant=merchant)
        if partner:
            return partner
        vals = {"name": name, "email": email, "phone": phone or False, "birthday": birthday}
        if merchant:
            vals["company_id"] = merchant.id
        if lang:
            vals["lang"] = lang
        return self.sudo().create(vals).with_env(self.env)

    # ------------------------------------------------------------------
    # GDPR: export and anonymization of a member's data
    # ------------------------------------------------------------------

    def _loyalty_plus_export_data(self):
        """Everything Loyalty+ keeps about this customer, as a JSON-ready dict (portal and backend)."""
        self.ensure_one()
        partner_sudo = self.sudo()
        cards_sudo = partner_sudo.with_context(active_test=False).loyalty_plus_card_ids
        selection = dict(
            self.env["loyalty_plus.transaction"]._fields["transaction_type"]._description_selection(self.env)
        )
        return {
            "exported_at": fields.Datetime.to_string(fields.Datetime.now()),
            "customer": {
                "name": partner_sudo.name,
                "email": partner_sudo.email or None,
                "phone": partner_sudo.phone or None,
                "birthday": fields.Date.to_string(partner_sudo.birthday) if partner_sudo.birthday else None,
                "language": partner_sudo.lang or None,
            },
            "cards": [
                {
                    "card_number": card.card_number,
                    "merchant": card.company_id.name,
                    "program": card.program_id.name,
                    "enrolled_in": card.shop_id.name,
                    "enrolled_on": fields.Datetime.to_string(card.create_date),
                    "active": card.active,
                    "marketing_consent": card.marketing_consent,
                    "terms_accepted_on": fields.Datetime.to_string(card.terms_accepted_date)
                    if card.terms_accepted_date
                    else None,
                    "stamps": card.stamp_count,
                    "points": card.points_balance,
                    "tier": card.tier_id.name or None,
                    "last_activity": fields.Datetime.to_string(card.last_activity_date)
                    if card.last_activity_date
                    else None,
                    "transactions": [
                        {
                            "date": fields.Datetime.to_string(tx.create_date),
                            "type": selection.get(tx.transaction_type, tx.transaction_type),
                            "stamps": tx.stamps_delta,
                            "points": tx.points_delta,
                            "amount": tx.amount,
                            "currency": tx.currency_id.name or None,
                            "shop": tx.shop_id.name or None,
                            "order_ref": tx.order_ref or None,
                            "note": tx.note or None,
                        }
                        for tx in card.transaction_ids.sorted("id")
                    ],
                    "redemptions": [
                        {
                            "date": fields.Datetime.to_string(red.create_date),
                            "reward": red.description,
                            "code": red.code,
                            "state": red.state,
                        }
                        for red in card.redemption_ids.sorted("id")
                    ],
                }
                for card in cards_sudo.sorted("id")
            ],
        }

    def action_loyalty_plus_export(self):
        """Backend: download the member's data as a JSON file."""
        self.ensure_one()
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can export a member's data."))
        self.check_access("read")
        payload = json.dumps(self._loyalty_plus_export_data(), indent=2, ensure_ascii=False)
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"loyalty-data-{self.id}.json",
                    "datas": base64.b64encode(payload.encode()),
                    "mimetype": "application/json",
                    "res_model": "res.partner",
                    "res_id": self.id,
                    "description": "loyalty_plus_export",
                }
            )
        )
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}

    @api.autovacuum
    def _gc_loyalty_plus_exports(self):
        """Exports hold personal data: they are kept one day, long enough to be downloaded."""
        self.env["ir.attachment"].sudo().search(
            [
                ("res_model", "=", "res.partner"),
                ("description", "=", "loyalty_plus_export"),
                ("create_date", "<", fields.Datetime.now() - relativedelta(days=1)),
            ]
        ).unlink()

    def action_loyalty_plus_anonymize(self):
        """GDPR erasure: scrub the customer's personal data, move their cards to an anonymous member
        (the ledger keeps its rows, so the merchant's aggregates stay right) and log who did it."""
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_admin"):
            raise AccessError(self.env._("Only a loyalty administrator can anonymize a customer."))
        self.check_access("read")
        admin = self.env.user
        for partner_sudo in self.sudo():
            if partner_sudo.user_ids.filtered(lambda u: u._is_internal()):
                raise UserError(
                    self.env._("%(name)s is an internal user and cannot be anonymized here.", name=partner_sudo.name)
                )
            cards_sudo = partner_sudo.with_context(active_test=False).loyalty_plus_card_ids
            anonymous_sudo = partner_sudo.create(
                {"name": self.env._("Anonymized member"), "active": False, "lang": partner_sudo.lang}
            )
            if cards_sudo:
                # queued emails must not reach the customer any more
                self.env["mail.mail"].sudo().search(
                    [("model", "=", "loyalty_plus.card"), ("res_id", "in", cards_sudo.ids), ("state", "=", "outgoing")]
                ).unlink()
                # chatter tracking kept the old customer name
                self.env["mail.tracking.value"].sudo().search(
                    [
                        ("mail_message_id.model", "=", "loyalty_plus.card"),
                        ("mail_message_id.res_id", "in", cards_sudo.ids),
                        ("field_id.name", "=", "partner_id"),
                    ]
                ).unlink()
                cards_sudo.with_context(tracking_disable=True).write(
                    {"partner_id": anonymous_sudo.id, "marketing_consent": False}
                )
                # the ledger is append-only for the application; the IP address and browser of the
                # customer's own requests are personal data all the same
                self.env["loyalty_plus.transaction"].flush_model()
                self.env.cr.execute(
                    SQL(
                        """UPDATE loyalty_plus_transaction SET request_ip = NULL, user_agent = NULL
                            WHERE card_id IN %s AND (request_ip IS NOT NULL OR user_agent IS NOT NULL)""",
                        tuple(cards_sudo.ids),
                    )
                )
                self.env["loyalty_plus.transaction"].invalidate_model(["request_ip", "user_agent"])
                for card_sudo in cards_sudo:
                    card_sudo.message_post(
                        body=self.env._("Customer data anonymized (GDPR) by %(admin)s.", admin=admin.name),
                        author_id=admin.partner_id.id,
                    )
            for user_sudo in partner_sudo.user_ids:
                user_sudo.write({"login": f"anonymized-{user_sudo.id}", "active": False})
            partner_sudo.write(partner_sudo._loyalty_plus_anonymized_values())
        return True

    def _loyalty_plus_anonymized_values(self):
        self.ensure_one()
        return {
            "name": self.env._("Anonymized customer %(id)s", id=self.id),
            "email": False,
            "phone": False,
            "street": False,
            "street2": False,
            "zip": False,
            "city": False,
            "vat": False,
            "website": False,
            "function": False,
            "comment": False,
            "birthday": False,
            "image_1920": False,
            "active": False,
        }
