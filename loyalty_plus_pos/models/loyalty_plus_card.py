from contextlib import contextmanager

from odoo import api, models
from odoo.fields import Domain
from odoo.tools import consteq, hmac

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal

SEARCH_LIMIT = 8


class LoyaltyPlusCard(models.Model):
    _name = "loyalty_plus.card"
    _inherit = ["loyalty_plus.card", "pos.load.mixin"]

    @api.model
    def _load_pos_data_domain(self, data, config):
        # cards are fetched one at a time when a cashier finds a member, never at boot
        return False

    @api.model
    def _load_pos_data_fields(self, config):
        return ["card_number", "partner_id"]

    # ------------------------------------------------------------------
    # Till entry points (RPC). A refusal is a LoyaltyPlusRefusal; the ones about what the card
    # holds carry its fresh summary as ``card``, so that the till shows the balance that refused.
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def lp_search(self, query, config_id):
        """Cards matching a scan, a typed number, an email, a phone or a name, as summaries.

        A card that the till's shop may not use (another merchant's, archived, issued in another
        shop) is refused with the reason, so the cashier knows at once instead of at the first
        operation.
        """
        shop = self._lp_get_shop(config_id)
        query = (query or "").strip()
        if len(query) < 2:
            raise LoyaltyPlusRefusal("validation_error", self.env._("Type at least two characters to search."))
        try:
            cards = self._get_by_query(query, shop)
        except LoyaltyPlusRefusal as refusal:
            if refusal.code != "card_not_found":
                raise
            # no card number, email or phone: the name of a customer
            cards = self.search(
                Domain("company_id", "=", shop._loyalty_plus_merchant().id) & Domain("partner_id.name", "ilike", query),
                limit=SEARCH_LIMIT,
            )
        if len(cards) == 1:
            cards._check_operable(shop)
            return [cards._get_summary()]
        # several name matches: the ones this shop may use
        return [card._get_summary() for card in cards._lp_filter_operable(shop)]

    @api.model
    @api.readonly
    def lp_card_for_partner(self, partner_id, config_id):
        """The card of the customer selected on the order that the till may use, or False."""
        shop = self._lp_get_shop(config_id)
        cards = self.search(
            Domain("company_id", "=", shop._loyalty_plus_merchant().id) & Domain("partner_id", "=", int(partner_id)),
            limit=2,
        )
        card = cards._lp_filter_operable(shop)[:1]
        return card._get_summary() if card else False

    @api.model
    def lp_enroll(self, config_id, name, email, phone=None, birthday=None, marketing_consent=False, referral_code=None):
        """Enroll at the till; returns the summary of the card to put on the order (``created``
        says whether it is new). With the ``referral_code`` of the friend who invited the customer,
        ``referral`` says what became of it (``state``: ``pending``, ``refused``, ``not_found`` or
        ``not_new``; ``message``: why it does not count, for the cashier): a code that does not
        count never refuses the enrollment."""
        shop = self._lp_get_shop(config_id)
        summary = self.enroll(
            name,
            email,
            phone=phone or None,
            birthday=birthday or None,
            shop_id=shop.id,
            marketing_consent=marketing_consent,
        )
        card = self.browse(summary["id"])
        # the customer's existing card may be one this till cannot use (archived)
        card._check_operable(shop)
        if referral_code and isinstance(referral_code, str) and referral_code.strip():
            summary["referral"] = card._lp_register_referral(referral_code, summary["created"])
        return summary

    def lp_authorize_stamp_reward(self, config_id, order_uuid, staff_pin_id=None, pin=None, count=1):
        """Check the staff PIN and the stamps before the till adds a stamp reward to an order.

        ``count`` is the number of free items the order will hold with this one. Nothing is spent
        here: the stamps are deducted when the paid order reaches the server. The returned
        ``grant`` proves to that sync that a staff member approved it for this card and this
        order, so the PIN never travels with the order.
        """
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("redeem")
        shop = self._lp_get_shop(config_id)
        if not order_uuid:
            raise LoyaltyPlusRefusal("validation_error", self.env._("The stamp reward needs an order."))
        staff = self._authorize(shop, staff_pin_id, pin, supports="stamps")
        with self._lp_refusals_with_card():
            self._check_stamp_rewards_ready(self._lp_count(count))
        return {
            "card": self._get_summary(),
            "staff_pin_id": staff.id or False,
            "grant": self._lp_stamp_reward_grant(staff, order_uuid),
        }

    def lp_authorize_sale(self, config_id, order_uuid, staff_pin_id=None, pin=None):
        """Check the staff PIN typed in the payment flow for the stamps of a sale.

        Nothing moves here: the stamps are earned when the paid order reaches the server. The
        returned ``grant`` proves to that sync that a staff member approved the stamps of this
        card on this order (the PIN never travels with the order); it proves nothing else (a
        stamp reward needs a grant of its own).
        """
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("stamp")
        shop = self._lp_get_shop(config_id)
        if not order_uuid:
            raise LoyaltyPlusRefusal("validation_error", self.env._("The stamps need an order."))
        staff = self._authorize(shop, staff_pin_id, pin, supports="stamps")
        return {
            "card": self._get_summary(),
            "staff_pin_id": staff.id or False,
            "grant": self._lp_sale_grant(staff, order_uuid),
        }

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _lp_get_shop(self, config_id):
        """The shop of a till: its company (the merchant or a branch)."""
        # no query: the access rights here, the till's company cached, and _get_shop refuses a
        # till of a company the user may not act for (without the record-rule query)
        self.env["pos.config"].check_access("read")
        try:
            config_id = int(config_id)
        except (TypeError, ValueError):
            config_id = 0
        company_id = self.env["pos.config"]._lp_get_company_id(config_id)
        if not company_id:
            raise LoyaltyPlusRefusal("validation_error", self.env._("Unknown point of sale."))
        return self._get_shop(company_id)

    @api.model
    def _lp_count(self, count):
        try:
            return int(count)
        except (TypeError, ValueError):
            raise LoyaltyPlusRefusal(
                "validation_error", self.env._("The number of rewards must be a whole number.")
            ) from None

    def _lp_register_referral(self, referral_code, created):
        """Record who invited this card enrolled at the till (a code that does not count leaves the
        new card as it is); what became of it, for the cashier."""
        self.ensure_one()
        if not created:
            return {
                "state": "not_new",
                "message": self.env._("The customer was already a member: only a new member can be invited."),
            }
        referral, refusal = self._try_register_referral(referral_code)
        if refusal:
            return {"state": "not_found", "message": refusal.args[0]}
        return {"state": referral.state, "message": referral.reason or False}

    def _lp_filter_operable(self, shop):
        """The cards the till of ``shop`` may operate on, as the card's own rules say."""
        operable = self.browse()
        for card in self:
            try:
                card._check_operable(shop)
            except LoyaltyPlusRefusal:
                continue
            operable |= card
        return operable

    @contextmanager
    def _lp_refusals_with_card(self):
        """A refusal raised inside carries the card's fresh summary (``card``): the till shows
        the balance that refused."""
        try:
            yield
        except LoyaltyPlusRefusal as refusal:
            if "card" in refusal.data:
                raise
            raise LoyaltyPlusRefusal(
                refusal.code, refusal.args[0], **refusal.data, card=self._get_summary()
            ) from refusal

    def _get_summary(self):
        summary = super()._get_summary()
        summary["partner_name"] = self.sudo().partner_id.name
        return summary

    def _prepare_transaction_vals(self, values):
        vals = super()._prepare_transaction_vals(values)
        # the settlement of a POS order runs the engine's operations in the order's context
        if "pos_order_id" not in vals and (order_id := self.env.context.get("lp_pos_order_id")):
            vals["pos_order_id"] = order_id
            vals.update(self.env["pos.order"].browse(order_id)._lp_get_cashier_values())
        return vals

    # ------------------------------------------------------------------
    # Stamp card reward at the till: the PIN is checked when the cashier adds the free item,
    # the stamps move when the paid order syncs
    # ------------------------------------------------------------------

    def _lp_stamp_reward_grant(self, staff, order_uuid):
        self.ensure_one()
        return hmac(self.env(su=True), "loyalty_plus_pos.stamp_reward", f"{self.id}:{staff.id or 0}:{order_uuid}")

    def _lp_sale_grant(self, staff, order_uuid):
        """The proof that ``staff`` approved the stamps of this card's sale ``order_uuid``: a key
        scope of its own (and a purpose prefix), so that it never passes for a stamp reward's."""
        self.ensure_one()
        return hmac(self.env(su=True), "loyalty_plus_pos.sale_stamps", f"sale:{self.id}:{staff.id or 0}:{order_uuid}")

    def _lp_check_sale_grant(self, staff, grant, order_uuid):
        """Whether ``grant`` is the approval of the stamps of this card's sale ``order_uuid`` by ``staff``."""
        self.ensure_one()
        return bool(grant) and consteq(grant, self._lp_sale_grant(staff, order_uuid))

    def _lp_masked_number(self):
        """The card number as a receipt prints it: its last four digits only."""
        self.ensure_one()
        number = self.sudo().card_number or ""
        return f"•••• •••• {number[-4:]}" if number else False

    def _lp_redeem_stamps(self, shop, staff, grant, order_ref, count=1):
        """Spend ``count`` full stamp cards on the free items of a paid order; returns the ledger
        row and its redemption. The engine's ``_redeem_stamps``, once the grant the till received
        when the PIN was checked proves the staff member's approval of this order."""
        self.ensure_one()
        program = self.sudo().program_id
        expected = self._lp_stamp_reward_grant(staff, order_ref)
        if (program.require_staff_pin or staff) and not consteq(grant or "", expected):
            raise LoyaltyPlusRefusal(
                "staff_pin_required", self.env._("The stamp reward was not approved with a staff PIN.")
            )
        return self._redeem_stamps(shop, staff, order_ref=order_ref, count=count)
