import base64
import logging
import math
import secrets
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.orm.environments import Transaction
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.sql_db import Cursor
from odoo.tools import SQL, html2plaintext
from odoo.tools.misc import hmac as odoo_hmac

from ..tools.apns import APNS_HOST, ApnsClient, make_tls_context
from ..tools.certificates import CredentialError
from ..tools.google_wallet import GoogleWalletError
from ..tools.pkpass import build_pkpass, css_rgb, render_images
from ..tools.retry import TransientError

_logger = logging.getLogger(__name__)

UPDATE_SEQUENCE = "loyalty_plus_wallet_pass_update_seq"
GOOGLE_NOTIFY_LIMIT = 3  # notifying updates per pass per 24 h, Google's cap
GOOGLE_NOTIFY_WINDOW = 24 * 3600
CRON_BATCH = 50
# a push outcome the pushing transaction could not write (the pass changed meanwhile) is written on a
# cursor of its own: a few tries, each waiting at most this long for a till's lock on the pass
RECORD_ATTEMPTS = 3
RECORD_LOCK_TIMEOUT = "5s"
ROUTE_PREFIX = "/loyalty_plus_wallet"
APPLE_SERVICE_PREFIX = f"{ROUTE_PREFIX}/apple"
_warned_base_urls = set()  # warn once per worker and address, not at every pass download


class LoyaltyPlusWalletPass(models.Model):
    """The wallet side of a card: one row per card added to a phone wallet, carrying the Apple
    authentication token, the update tag and the coalesced "needs a push" flag."""

    _name = "loyalty_plus.wallet_pass"
    _description = "Loyalty+ wallet pass"
    _order = "id"
    _rec_name = "serial_number"

    card_id = fields.Many2one("loyalty_plus.card", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="card_id.company_id", store=True, index=True, string="Merchant")
    serial_number = fields.Char(required=True, readonly=True, copy=False)
    authentication_token = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        groups="base.group_system",
        default=lambda self: secrets.token_hex(20),
        help="Apple's authenticationToken: set once, never changes",
    )
    update_tag = fields.Integer(
        readonly=True, copy=False, help="Apple's lastUpdated: taken by the push, in the order the pushes commit"
    )
    last_modified = fields.Datetime(readonly=True, copy=False, help="Last-Modified of the Apple pass")
    update_pending = fields.Boolean(readonly=True, copy=False, index=True)
    queued_date = fields.Datetime(readonly=True, copy=False)
    google_object_saved = fields.Boolean(
        readonly=True, copy=False, help="The Google Wallet object exists (a save link was opened)"
    )
    # the object id holds the issuer ID: after an issuer change the object must be created again
    google_object_id = fields.Char(
        string="Google Wallet object", readonly=True, copy=False, help="The id the object was last saved under"
    )
    google_notify_times = fields.Char(
        readonly=True, copy=False, help="Epoch seconds of the notifying Google updates of the last 24 hours"
    )
    last_push_date = fields.Datetime(readonly=True, copy=False)
    failure_count = fields.Integer(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    # Google or APNs asked to wait (Retry-After) longer than a worker may sleep: the cron leaves the
    # pass alone until then, however many changes come in meanwhile
    retry_after_date = fields.Datetime(string="Retry after", readonly=True, copy=False)
    registration_ids = fields.One2many("loyalty_plus.wallet_registration", "pass_id", string="Apple devices")

    _card_unique = models.UniqueIndex("(card_id)", "A card has one wallet pass.")
    _serial_unique = models.UniqueIndex("(serial_number)", "A pass serial number is unique.")
    _pending_idx = models.Index("(queued_date) WHERE update_pending")

    def init(self):
        self.env.cr.execute(SQL("CREATE SEQUENCE IF NOT EXISTS %s", SQL.identifier(UPDATE_SEQUENCE)))

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            # a new pass is downloaded as it is now: any tag will do until its first change is pushed
            vals.setdefault("update_tag", self._next_update_tag())
            vals.setdefault("last_modified", now)
        return super().create(vals_list)

    # ------------------------------------------------------------------ helpers

    @api.model
    def _next_update_tag(self):
        self.env.cr.execute(SQL("SELECT nextval(%s)", UPDATE_SEQUENCE))
        return self.env.cr.fetchone()[0]

    @api.model
    def _retry_base_delay(self):
        """First retry delay in seconds (then x4, x16); tests shorten it through the context."""
        return float(self.env.context.get("loyalty_plus_wallet_retry_base_delay", 1.0))

    @api.model
    def _get_for_card(self, card, create=False):
        pass_sudo = self.sudo().search([("card_id", "=", card.id)], limit=1)
        if not pass_sudo and create:
            pass_sudo = self.sudo().create({"card_id": card.id, "serial_number": card.sudo().card_number})
        return pass_sudo

    @api.model
    def _link_signature(self, serial_number):
        return odoo_hmac(self.env(su=True), "loyalty_plus_wallet-link", serial_number)[:32]

    def _get_base_url(self):
        return self.card_id.get_base_url().rstrip("/")

    def _get_web_service_url(self):
        """The PassKit web service URL, or None when the base URL is not https: Wallet only talks
        to an https web service, so such a pass installs but never registers nor updates."""
        base_url = self._get_base_url()
        if not base_url.startswith("https://"):
            if base_url not in _warned_base_urls:
                _warned_base_urls.add(base_url)
                _logger.warning("Wallet: %s is not an https address, Apple passes are issued without updates", base_url)
            return None
        return base_url + APPLE_SERVICE_PREFIX

    def _mark_changed(self):
        """Queue an update: one pending flag per pass (coalesced), a later Last-Modified, and a cron
        trigger so that devices hear of it within a minute. The update tag is not taken here but by
        the push (:meth:`_assign_update_tags`)."""
        if not self:
            return
        now = fields.Datetime.now()
        for wallet_pass in self.sudo():
            # Last-Modified has second precision: keep it strictly growing so that 304s stay right
            modified = max(now, (wallet_pass.last_modified or now) + timedelta(seconds=1))
            wallet_pass.write(
                {
                    "last_modified": modified,
                    "update_pending": True,
                    "queued_date": now,
                }
            )
        self._trigger_push()

    @api.model
    def _queue_updates_sql(self, card_ids_query):
        """Set-based :meth:`_mark_changed` for the passes of the cards ``card_ids_query`` selects."""
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """UPDATE loyalty_plus_wallet_pass
                      SET last_modified = GREATEST(%(now)s, last_modified + interval '1 second'),
                          update_pending = true,
                          queued_date = %(now)s
                    WHERE card_id IN (%(cards)s)
                RETURNING id""",
                now=fields.Datetime.now(),
                cards=card_ids_query,
            )
        )
        self.invalidate_model(["last_modified", "update_pending", "queued_date"])
        if rows:
            self._trigger_push()
        return len(rows)

    @api.model
    def _trigger_push(self):
        """Wake the push cron once per transaction, right after it commits."""
        data = self.env.cr.precommit.data
        if not data.get("loyalty_plus_wallet.triggered"):
            data["loyalty_plus_wallet.triggered"] = True
            cron = self.env.ref("loyalty_plus_wallet.ir_cron_loyalty_plus_wallet_push", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()

    def _card_in_lang(self):
        card = self.card_id.sudo()
        lang = card.partner_id.lang or self.env.lang
        return card.with_context(lang=lang)

    # ------------------------------------------------------------------ Apple pass

    def _prepare_apple_fields(self):
        """storeCard fields: stamps or points up front, then tier and reward (change messages on the
        values that move, so that the lock screen says what changed)."""
        card = self._card_in_lang()
        program = card.program_id
        primary, secondary, auxiliary = [], [], []
        stamps = {
            "key": "stamps",
            "label": card.env._("Stamps"),
            "value": f"{card.stamp_count}/{program.stamps_target}",
            "changeMessage": card.env._("Your stamps: %@"),
        }
        points = {
            "key": "points",
            "label": card.env._("Points"),
            "value": card.points_balance,
            "changeMessage": card.env._("Your points: %@"),
        }
        if program.has_stamps:
            primary.append(stamps)
            if program.has_points:
                secondary.append(points)
        else:
            primary.append(points)
        secondary.append(
            {
                "key": "tier",
                "label": card.env._("Tier"),
                "value": card.tier_id.name or card.env._("Member"),
                "changeMessage": card.env._("New tier: %@"),
            }
        )
        auxiliary.append({"key": "member", "label": card.env._("Member"), "value": card.partner_id.name or ""})
        if card.stamp_bank_to_next:
            # a "stamps per amount spent" rule: what the customer still spends for the next stamp
            auxiliary.append(
                {
                    "key": "next_stamp",
                    "label": card.env._("To the next stamp"),
                    "value": card.currency_id.format(card.stamp_bank_to_next),
                    "changeMessage": card.env._("To the next stamp: %@"),
                }
            )
        if program.has_stamps and program.stamps_reward_description:
            auxiliary.append(
                {"key": "reward", "label": card.env._("Reward"), "value": program.stamps_reward_description}
            )
        back = [
            {"key": "number", "label": card.env._("Card number"), "value": card.card_number},
            {"key": "merchant", "label": card.env._("Merchant"), "value": card.company_id.name},
        ]
        if program._offers_referral_bonus() and card.referral_code:
            back.append({"key": "referral", "label": card.env._("Invite a friend"), "value": card.referral_url})
        if program.terms_text:
            back.append({"key": "terms", "label": card.env._("Terms"), "value": html2plaintext(program.terms_text)})
        return {
            "primaryFields": primary,
            "secondaryFields": secondary,
            "auxiliaryFields": auxiliary,
            "backFields": back,
        }

    def _prepare_apple_pass_json(self):
        self.ensure_one()
        card = self._card_in_lang()
        program = card.program_id
        merchant = card.company_id.sudo()
        title = program.card_name or program.name
        pass_json = {
            "formatVersion": 1,
            "passTypeIdentifier": merchant.loyalty_plus_wallet_apple_pass_type_id.strip(),
            "serialNumber": self.serial_number,
            "teamIdentifier": merchant.loyalty_plus_wallet_apple_team_id.strip(),
            "organizationName": merchant.name,
            "description": title,
            "logoText": title,
            "foregroundColor": css_rgb(program.secondary_color, (255, 255, 255)),
            "backgroundColor": css_rgb(program.primary_color),
            "labelColor": css_rgb(program.secondary_color, (255, 255, 255)),
            "barcodes": [
                {
                    "format": "PKBarcodeFormatQR",
                    "message": card.qr_payload,
                    "messageEncoding": "iso-8859-1",
                    "altText": card.card_number,
                }
            ],
            "sharingProhibited": True,
            "storeCard": self._prepare_apple_fields(),
        }
        web_service_url = self._get_web_service_url()
        if web_service_url:
            pass_json["webServiceURL"] = web_service_url
            pass_json["authenticationToken"] = self.sudo().authentication_token
        if not card.active:
            pass_json["voided"] = True
        return pass_json

    def _render_apple_images(self):
        program = self.card_id.sudo().program_id.with_context(bin_size=False)
        return render_images(
            logo=program.logo and base64.b64decode(program.logo),
            strip=program.hero_image and base64.b64decode(program.hero_image),
            background=program.primary_color,
            foreground=program.secondary_color,
            letter=(program.card_name or program.name or "")[:1],
        )

    def _generate_pkpass(self):
        """The signed .pkpass bytes of this pass (raises CredentialError on broken credentials)."""
        self.ensure_one()
        certificate, key, wwdr = self.card_id.sudo().company_id._loyalty_plus_wallet_apple_credentials()
        return build_pkpass(self._prepare_apple_pass_json(), self._render_apple_images(), certificate, key, wwdr)

    # ------------------------------------------------------------------ Google objects

    def _google_class_id(self, issuer_id):
        program = self.card_id.sudo().program_id
        db_tag = (self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "")[:8]
        return f"{issuer_id}.loyalty_plus_{db_tag}_program_{program.id}"

    def _google_object_id(self, issuer_id):
        return f"{issuer_id}.loyalty_plus_card_{self.serial_number}"

    def _google_localized(self, get_value, default_lang):
        """A Google LocalizedString: ``get_value(lang)`` in the merchant's language, translated into
        every active language (Wallet shows the one of the phone)."""
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        return {
            "defaultValue": {"language": default_lang.replace("_", "-"), "value": get_value(default_lang)},
            "translatedValues": [
                {"language": lang.replace("_", "-"), "value": get_value(lang)} for lang in langs if lang != default_lang
            ],
        }

    def _prepare_google_class(self, issuer_id):
        """The class every card of the program shares: in the merchant's language with the other
        languages as translations, never in the language of the customer who happened to create it."""
        card = self.card_id.sudo()
        merchant = card.company_id
        default_lang = merchant.partner_id.lang or self.env.lang or "en_US"
        program = card.program_id.with_context(lang=default_lang)

        def program_title(lang):
            translated = program.with_context(lang=lang)
            return translated.card_name or translated.name

        title = program_title(default_lang)
        localized_title = self._google_localized(program_title, default_lang)
        images_url = f"{self._get_base_url()}{ROUTE_PREFIX}/program/{program.id}"
        body = {
            "id": self._google_class_id(issuer_id),
            "issuerName": merchant.name,
            "localizedIssuerName": self._google_localized(
                lambda lang: merchant.with_context(lang=lang).name, default_lang
            ),
            "programName": title,
            "localizedProgramName": localized_title,
            "programLogo": {
                "sourceUri": {"uri": f"{images_url}/logo.png"},
                "contentDescription": localized_title,
            },
            "hexBackgroundColor": program.primary_color or "#000000",
            "reviewStatus": "UNDER_REVIEW",
        }
        if program.hero_image:
            # the banner under the card, as on the Apple pass (strip image); Google fetches it by URL
            body["heroImage"] = {"sourceUri": {"uri": f"{images_url}/hero.png"}, "contentDescription": localized_title}
        return body

    def _prepare_google_object(self, issuer_id):
        card = self._card_in_lang()
        program = card.program_id
        body = {
            "id": self._google_object_id(issuer_id),
            "classId": self._google_class_id(issuer_id),
            "state": "ACTIVE" if card.active else "INACTIVE",
            "accountId": card.card_number,
            "accountName": card.partner_id.name or "",
            "barcode": {"type": "QR_CODE", "value": card.qr_payload, "alternateText": card.card_number},
        }
        stamps = {"label": card.env._("Stamps"), "balance": {"string": f"{card.stamp_count}/{program.stamps_target}"}}
        points = {"label": card.env._("Points"), "balance": {"int": card.points_balance}}
        if program.has_stamps:
            body["loyaltyPoints"] = stamps
            if program.has_points:
                body["secondaryLoyaltyPoints"] = points
        else:
            body["loyaltyPoints"] = points
        body["textModulesData"] = [
            {"id": "tier", "header": card.env._("Tier"), "body": card.tier_id.name or card.env._("Member")}
        ]
        if card.stamp_bank_to_next:
            body["textModulesData"].append(
                {
                    "id": "next_stamp",
                    "header": card.env._("To the next stamp"),
                    "body": card.currency_id.format(card.stamp_bank_to_next),
                }
            )
        if program._offers_referral_bonus() and card.referral_code:
            body["linksModuleData"] = {
                "uris": [{"id": "referral", "uri": card.referral_url, "description": card.env._("Invite a friend")}]
            }
        return body

    @api.model
    def _google_recent_notifications(self, times, now):
        """The epoch seconds in ``times`` (a ``google_notify_times`` value) within 24 h of ``now``."""
        return [int(t) for t in (times or "").split() if now - int(t) < GOOGLE_NOTIFY_WINDOW]

    def _google_notification_budget(self, now=None):
        """``(notify, times)``: whether one more notifying update fits in Google's 3 per pass per 24 h
        (else the update goes out silently), and the notification times to store once it is sent."""
        now = int(now or time.time())
        recent = self._google_recent_notifications(self.google_notify_times, now)
        notify = len(recent) < GOOGLE_NOTIFY_LIMIT
        if notify:
            recent.append(now)
        return notify, " ".join(map(str, recent))

    def _google_save_class(self, client, force=False):
        """Send the program's class when Google does not have it as it is now: never sent under this
        id (first card, issuer ID changed, database copied) or its branding changed; not once per card."""
        program = self.card_id.sudo().program_id
        class_id = self._google_class_id(client.issuer_id)
        if force or program.wallet_google_class_outdated or program.wallet_google_class_id != class_id:
            client.upsert("loyaltyClass", self._prepare_google_class(client.issuer_id))
            program.write({"wallet_google_class_id": class_id, "wallet_google_class_outdated": False})

    def _google_send_object(self, client):
        """Create (or replace) the class when needed, then the object; returns the object's id."""
        self._google_save_class(client)
        body = self._prepare_google_object(client.issuer_id)
        try:
            client.upsert("loyaltyObject", body)
        except GoogleWalletError as error:
            if error.status != 404:
                raise
            # Google has no class of that id although we sent it (deleted in the console): again, class first
            self._google_save_class(client, force=True)
            client.upsert("loyaltyObject", body)
        return body["id"]

    def _google_save_object(self, client):
        """Create the object (its class first when needed) before a save link names it."""
        object_id = self._google_send_object(client)
        self.sudo().write({"google_object_saved": True, "google_object_id": object_id})

    def _google_sync(self, client, sent):
        """Replace the object with its current state (notifying while the daily budget lasts); an
        object Google does not have is created like a save link does, its class first. What Google
        was told goes into ``sent``, for :meth:`_record_push` to write once every call is done."""
        self._google_save_class(client)
        body = self._prepare_google_object(client.issuer_id)
        now = int(time.time())
        notify, _times = self._google_notification_budget(now)
        if notify:
            body["notifyPreference"] = "NOTIFY_ON_UPDATE"
        try:
            client.update("loyaltyObject", body)
        except GoogleWalletError as error:
            # an issuer ID change, a database copy or a deletion in the console: inserting the object
            # alone would fail forever against a class Google does not have
            if error.status != 404:
                raise
            sent["google_object_id"] = self._google_send_object(client)
            return
        if notify:
            sent["google_notify_time"] = now

    def _get_google_save_url(self, client=None):
        self.ensure_one()
        merchant = self.card_id.sudo().company_id
        client = client or merchant._loyalty_plus_wallet_google_client()
        if not self.google_object_saved or self.google_object_id != self._google_object_id(client.issuer_id):
            self._google_save_object(client)
        return client.make_save_url(self._google_object_id(client.issuer_id), [self._get_base_url()])

    # ------------------------------------------------------------------ Apple push

    @api.model
    def _get_apns_client(self, merchant):
        merchant = merchant.sudo()
        params = self.env["ir.config_parameter"].sudo()
        context = make_tls_context(
            merchant.loyalty_plus_wallet_apple_certificate,
            merchant.loyalty_plus_wallet_apple_key,
            merchant.loyalty_plus_wallet_apple_key_password,
            ca_file=params.get_param("loyalty_plus_wallet.apns_ca_file") or None,
        )
        return ApnsClient(
            merchant.loyalty_plus_wallet_apple_pass_type_id.strip(),
            context,
            host=params.get_param("loyalty_plus_wallet.apns_host") or APNS_HOST,
            retry_base_delay=self._retry_base_delay(),
        )

    def _apple_push(self, client):
        """Push every device holding this pass; forget the tokens APNs calls dead. Returns the
        failed results (the update then stays queued)."""
        failures, dead = [], self.env["loyalty_plus.wallet_registration"].sudo()
        for registration in self.sudo().registration_ids:
            result = client.push(registration.push_token)
            if result.ok:
                continue
            if result.token_dead:
                _logger.info(
                    "Wallet: APNs dropped device %s of card %s (%s %s)",
                    registration.device_library_identifier,
                    self.serial_number,
                    result.status,
                    result.reason,
                )
                dead |= registration
            else:
                failures.append(result)
        dead.unlink()
        return failures

    # ------------------------------------------------------------------ queue

    @api.model
    def _cron_push_updates(self):
        """Hourly, and triggered right after changes: push the pending passes, one commit per card so
        that no card row stays locked while the next ones are sent. A pass that fails waits for the
        next run instead of being retried in a loop, and one that Google or APNs asked to leave alone
        (Retry-After) waits until then."""
        domain = Domain("update_pending", "=", True) & (
            Domain("retry_after_date", "=", False) | Domain("retry_after_date", "<=", fields.Datetime.now())
        )
        tried = []
        clients = ({}, {})
        try:
            while True:
                todo = domain & Domain("id", "not in", tried)
                passes = self.sudo().search(todo, order="failure_count, queued_date, id", limit=CRON_BATCH)
                if not passes:
                    return
                tried += passes.ids
                remaining = self.sudo().search_count(domain & Domain("id", "not in", tried))
                passes = passes._assign_update_tags()
                remaining += len(passes)
                if not self.env["ir.cron"]._commit_progress(remaining=remaining):
                    return
                for wallet_pass in passes:
                    wallet_pass._push_one_isolated(*clients)
                    remaining -= 1
                    if not self.env["ir.cron"]._commit_progress(1, remaining=remaining):
                        return
        finally:
            self._close_clients(*clients)

    def _assign_update_tags(self):
        """Give these passes their Apple update tags (``lastUpdated``) right before they are pushed;
        returns the passes tagged.

        A device remembers the highest tag it was told and then asks only for the passes above it.
        Taken in the business transactions, a tag could commit after a higher one a device had
        already seen, and that change was never fetched. Taken here instead, by the one push cron
        (Odoo never runs a cron twice at once) and committed before any device is pushed, every
        committed tag is above all the tags committed before it.

        A pass that a till changed since this transaction began cannot be tagged in it: it is left
        out, still queued, for the run that its change triggered."""
        if not self:
            return self
        self.flush_recordset(["update_tag"])
        try:
            self._set_update_tags()
            tagged = self
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            tagged = self.browse()
            for wallet_pass in self:
                try:
                    wallet_pass._set_update_tags()
                    tagged |= wallet_pass
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    _logger.info("Wallet: card %s changed meanwhile, its update waits", wallet_pass.serial_number)
        self.invalidate_recordset(["update_tag"])
        return tagged

    def _set_update_tags(self):
        # plain SQL and no error log: a concurrent change is expected here, and handled by the caller
        with self.env.cr.savepoint(flush=False):
            self.env.cr.execute(
                SQL(
                    "UPDATE loyalty_plus_wallet_pass SET update_tag = nextval(%s) WHERE id = ANY(%s)",
                    UPDATE_SEQUENCE,
                    self.ids,
                ),
                log_exceptions=False,
            )

    def _push_updates(self):
        """Send the pending updates of ``self`` in the current transaction (the cron commits its tags
        first, see :meth:`_assign_update_tags`); a failing card never stops the others. Returns the
        number of passes brought up to date. Unlike the cron, pushes even a pass asked to wait."""
        passes = self.sudo()._assign_update_tags()
        clients = ({}, {})
        try:
            return sum(wallet_pass._push_one_isolated(*clients) for wallet_pass in passes)
        finally:
            self._close_clients(*clients)

    @api.model
    def _close_clients(self, google_clients, apns_clients):
        for client in apns_clients.values():
            client.close()

    def _note_failure(self, error):
        """Keep the error on the pass, where the merchant's list of failing passes shows it."""
        self.sudo().write({"failure_count": self.failure_count + 1, "last_error": error[:2000]})

    def _push_one_isolated(self, google_clients, apns_clients):
        """Push this pass and record the outcome (:meth:`_record_push`); any failure is logged with
        the card and kept on the pass. True when sent."""
        # Last-Modified grows with every change: a change made while we push keeps the pass queued
        modified = self.last_modified
        sent = {}
        error = retry_after = None
        try:
            with self.env.cr.savepoint():
                error, retry_after = self._push_one(google_clients, apns_clients, sent)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # a row this push writes (the program's class, a device) changed meanwhile: not the
            # pass's fault, the update stays queued for the next run
            _logger.info("Wallet: records of card %s changed while it was pushed, it stays queued", self.serial_number)
            self._record_push(modified, sent, done=False)
            return False
        except TransientError as exc:
            error, retry_after = str(exc) or type(exc).__name__, exc.retry_after
        except (GoogleWalletError, CredentialError, OSError, ValueError) as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:
            # whatever goes wrong with one pass (a bug, an answer nobody foresaw) must not stop the
            # queue: the cron would abort on this pass at every run and starve all the others
            _logger.exception("Wallet: unexpected error while updating card %s", self.serial_number)
            error = f"{type(exc).__name__}: {exc}"
        if error:
            _logger.warning("Wallet: update of card %s failed: %s", self.serial_number, error)
        self._record_push(modified, sent, error=error, retry_after=retry_after, done=not error)
        return not error

    def _push_one(self, google_clients, apns_clients, sent):
        """Replace the Google object and push the Apple devices of this pass, noting in ``sent`` what
        Google was told. Returns ``(error, retry_after)``: an error text when a device could not be
        reached (the update then stays queued) and the seconds APNs asked to wait, else Nones."""
        merchant = self.card_id.sudo().company_id
        if self.google_object_saved and merchant._loyalty_plus_wallet_google_ready():
            if merchant.id not in google_clients:
                google_clients[merchant.id] = merchant._loyalty_plus_wallet_google_client()
            self._google_sync(google_clients[merchant.id], sent)
        if self.registration_ids and merchant._loyalty_plus_wallet_apple_ready():
            if merchant.id not in apns_clients:
                apns_clients[merchant.id] = self._get_apns_client(merchant)
            failures = self._apple_push(apns_clients[merchant.id])
            if failures:
                error = ", ".join(f"APNs {r.status} {r.reason or ''}".strip() for r in failures)
                return error, max((r.retry_after or 0 for r in failures), default=0) or None
        return None, None

    def _record_push(self, modified, sent, error=None, retry_after=None, done=False):
        """Write the outcome of a push on the pass: what Google was told (its 3 notifications a day
        are counted whatever happens next), then either the push done or the error.

        Written in the pushing transaction when it can be. When a till changed the pass since that
        transaction began (a stamp while Google answered), it cannot write the row any more; the
        outcome is then written on a cursor of its own, which sees that change (so the pass stays
        queued), rather than failing the run or committing the cron's transaction."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self._write_push_outcome(modified, sent, error, retry_after, done)
            return
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            _logger.info("Wallet: card %s changed while it was pushed, it stays queued", self.serial_number)
        self.invalidate_recordset()
        for attempt in range(RECORD_ATTEMPTS):
            try:
                with self.env.registry.cursor() as cr:
                    # a transaction object of its own up front: looking the registry up would need
                    # Registry._lock, which the thread that started this one may hold
                    cr.transaction = Transaction(self.env.registry)
                    if isinstance(cr, Cursor):  # not a test cursor, a savepoint of the test's transaction
                        # never wait long on a lock: the pushing transaction may hold rows of its own
                        cr.execute(SQL("SET LOCAL lock_timeout = %s", RECORD_LOCK_TIMEOUT))
                    self.with_env(self.env(cr=cr))._write_push_outcome(modified, sent, error, retry_after, done)
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                time.sleep(0.1 * (attempt + 1))
        _logger.warning("Wallet: the update of card %s was sent but could not be recorded", self.serial_number)

    def _write_push_outcome(self, modified, sent, error, retry_after, done):
        """:meth:`_record_push` in the current transaction, in SQL that logs no error: a
        serialization failure is expected here when the pass changed meanwhile."""
        cr = self.env.cr
        cr.execute(
            SQL("SELECT google_notify_times FROM loyalty_plus_wallet_pass WHERE id = %s FOR NO KEY UPDATE", self.id),
            log_exceptions=False,
        )
        row = cr.fetchone()
        if not row:
            return  # the card was deleted meanwhile
        now = fields.Datetime.now()
        assignments = []
        if sent.get("google_notify_time"):
            # merged into the row as it is now, never into what was read before the push
            notified = sent["google_notify_time"]
            times = [*self._google_recent_notifications(row[0], notified), notified]
            assignments.append(SQL("google_notify_times = %s", " ".join(map(str, times))))
        if sent.get("google_object_id"):
            assignments.append(SQL("google_object_saved = true, google_object_id = %s", sent["google_object_id"]))
        retry_date = None
        if error:
            if retry_after:
                retry_date = now + timedelta(seconds=math.ceil(retry_after))
            assignments.append(
                SQL(
                    "failure_count = COALESCE(failure_count, 0) + 1, last_error = %s, retry_after_date = %s",
                    error[:2000],
                    retry_date,
                )
            )
        elif done:
            # a change that came in meanwhile keeps the pass queued
            assignments.append(
                SQL(
                    """update_pending = update_pending AND last_modified IS DISTINCT FROM %s,
                       failure_count = 0, last_error = NULL, retry_after_date = NULL, last_push_date = %s""",
                    modified,
                    now,
                )
            )
        if assignments:
            cr.execute(
                SQL(
                    "UPDATE loyalty_plus_wallet_pass SET %s WHERE id = %s",
                    SQL(", ").join(assignments),
                    self.id,
                ),
                log_exceptions=False,
            )
        self.invalidate_recordset()
        if retry_date:
            # the hourly run could come up to an hour late: wake the cron when the wait is over
            cron = self.env.ref("loyalty_plus_wallet.ir_cron_loyalty_plus_wallet_push", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger(retry_date)
