from odoo import api, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import consteq, hmac

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
    # POS entry points (read paths)
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def pos_search(self, query, config_id):
        """Cards matching a scan, a typed number, an email, a phone or a name, as summaries.

        A card that the till's shop may not use (cross-location off, issued elsewhere) is refused
        with the reason, so the cashier knows at once instead of at the first operation.
        """
        shop = self._get_pos_shop(config_id)
        query = (query or "").strip()
        if len(query) < 2:
            raise UserError(self.env._("Type at least two characters to search."))
        card = self._find(query, shop)
        if not card:
            card = self.search(
                Domain("company_id", "=", shop._loyalty_plus_merchant().id) & Domain("partner_id.name", "ilike", query),
                limit=SEARCH_LIMIT,
            )
        if len(card) == 1:
            card._check_operable(shop)
            return [card._get_summary()]
        # several name matches: the ones this shop may use
        usable = card.filtered(lambda c: c.cross_location or c.shop_id == shop)
        return [c._get_summary() for c in usable]

    @api.model
    @api.readonly
    def pos_card_for_partner(self, partner_id, config_id):
        """The card of the customer selected on the order, or False."""
        shop = self._get_pos_shop(config_id)
        cards = self.search(
            Domain("company_id", "=", shop._loyalty_plus_merchant().id) & Domain("partner_id", "=", int(partner_id)),
            limit=2,
        )
        card = cards.filtered(lambda c: c.cross_location or c.shop_id == shop)[:1]
        return card._get_summary() if card else False

    @api.model
    def pos_enroll(self, config_id, name, email, phone=None, birthday=None, marketing_consent=False):
        """Enroll at the till; returns the card summary and the customer to select."""
        shop = self._get_pos_shop(config_id)
        summary = self.enroll(
            name,
            email,
            phone=phone or None,
            birthday=birthday or None,
            shop_id=shop.id,
            marketing_consent=marketing_consent,
        )
        card = self.browse(summary["id"])
        card._check_operable(shop)
        return dict(card._get_summary(), created=summary["created"])

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _get_pos_shop(self, config_id):
        """The shop of a till: its company (the merchant or a branch)."""
        # one query: the access rights here, the company by _get_shop (a till of a company the
        # user may not act for is refused there, without the record-rule query)
        self.env["pos.config"].check_access("read")
        config = self.env["pos.config"].sudo().search_fetch([("id", "=", int(config_id))], ["company_id"], limit=1)
        if not config:
            raise UserError(self.env._("Unknown point of sale."))
        return self._get_shop(config.company_id.id)

    def _get_summary(self):
        summary = super()._get_summary()
        summary["partner_name"] = self.sudo().partner_id.name
        return summary

    def _prepare_transaction_vals(self, *args, **kwargs):
        vals = super()._prepare_transaction_vals(*args, **kwargs)
        if order_id := self.env.context.get("loyalty_plus_pos_order_id"):
            vals["pos_order_id"] = order_id
        return vals

    # ------------------------------------------------------------------
    # Stamp card reward at the till: the PIN is checked when the cashier adds the free item,
    # the stamps move when the paid order syncs
    # ------------------------------------------------------------------

    def pos_authorize_stamp_reward(self, config_id, order_uuid, staff_pin_id=None, pin=None):
        """Check the staff PIN and the stamps before the till adds the stamp reward to an order.

        Nothing is spent here: the stamps are deducted when the paid order reaches the server. The
        returned ``grant`` proves to that sync that a staff member approved it for this card and
        this order, so the PIN never travels with the order.
        """
        self.ensure_one()
        self.env["loyalty_plus.rate_limit"]._check("redeem")
        shop = self._get_pos_shop(config_id)
        card = self._check_operable(shop)
        program = card.sudo().program_id
        if not program.has_stamps:
            raise UserError(self.env._("The program %(program)s has no stamps.", program=program.name))
        if not order_uuid:
            raise UserError(self.env._("The stamp reward needs an order."))
        staff, refusal = card._check_staff(staff_pin_id, pin, shop)
        if refusal:
            return refusal
        if card.stamp_count < program.stamps_target:
            raise UserError(
                self.env._(
                    "Not enough stamps: %(count)s of %(target)s.", count=card.stamp_count, target=program.stamps_target
                )
            )
        return {
            "ok": True,
            "card": card._get_summary(),
            "staff_pin_id": staff.id or False,
            "grant": card._lp_stamp_reward_grant(staff, order_uuid),
        }

    def _lp_stamp_reward_grant(self, staff, order_uuid):
        self.ensure_one()
        return hmac(self.env(su=True), "loyalty_plus_pos.stamp_reward", f"{self.id}:{staff.id or 0}:{order_uuid}")

    def _lp_pos_redeem_stamps(self, shop, staff, grant, order_ref, count=1):
        """Deduct ``count`` full stamp cards for the free items of a paid order; returns the ledger
        row and its redemption. Same checks as the engine's ``redeem_stamps``, with the PIN approval
        replaced by the grant the till received when the PIN was checked."""
        self.ensure_one()
        card = self._check_operable(shop)
        program = card.sudo().program_id
        if not program.has_stamps:
            raise UserError(self.env._("The program %(program)s has no stamps.", program=program.name))
        expected = card._lp_stamp_reward_grant(staff, order_ref)
        if (program.require_staff_pin or staff) and not consteq(grant or "", expected):
            raise UserError(self.env._("The stamp reward was not approved with a staff PIN."))
        card._lock()
        needed = program.stamps_target * max(int(count), 1)
        if card.stamp_count < needed:
            raise UserError(
                self.env._("Not enough stamps: %(count)s of %(target)s.", count=card.stamp_count, target=needed)
            )
        tx = card._apply_ledger(
            "stamp_redeemed", stamps=-needed, shop=shop, staff=staff, order_ref=order_ref, lock=False
        )
        redemption = self.env["loyalty_plus.redemption"].sudo()._issue(tx, program.stamps_reward_description)
        return tx, redemption
