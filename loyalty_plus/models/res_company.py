from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    # Merchant settings live on the merchant (the root company); branches read them from there.
    loyalty_plus_cross_location = fields.Boolean(
        string="Cards valid in every shop",
        default=True,
        help="On: one card per customer for the whole merchant, usable in every shop. "
        "Off: one card per customer per shop, usable only where it was enrolled.",
    )
    loyalty_plus_self_enrollment = fields.Boolean(
        string="Customers may enroll themselves",
        default=True,
    )
    loyalty_plus_void_policy = fields.Selection(
        selection=[("cashier", "Cashiers and managers"), ("manager", "Managers only")],
        string="Who may void",
        default="manager",
        required=True,
    )
    loyalty_plus_pin_max_attempts = fields.Integer(string="Wrong PINs before lock", default=5)
    loyalty_plus_pin_lock_minutes = fields.Integer(string="PIN lock (minutes)", default=30)

    _loyalty_plus_pin_policy_positive = models.Constraint(
        "CHECK (loyalty_plus_pin_max_attempts >= 1 AND loyalty_plus_pin_lock_minutes >= 1)",
        "A PIN locks after at least one wrong attempt, for at least one minute.",
    )

    @api.constrains("loyalty_plus_cross_location")
    def _check_loyalty_plus_cross_location(self):
        # Switching cross-location on is refused while a customer still holds several cards
        # of this merchant: the unique index behind it could not be built.
        for company in self.filtered("loyalty_plus_cross_location"):
            groups = (
                self.env["loyalty_plus.card"]
                .with_context(active_test=False)
                ._read_group(
                    [("company_id", "=", company.id)],
                    groupby=["partner_id"],
                    aggregates=["__count"],
                    having=[("__count", ">", 1)],
                )
            )
            if groups:
                raise ValidationError(
                    self.env._(
                        "%(count)s customers of %(merchant)s hold a card in several shops: "
                        "merge or archive those cards before making cards valid in every shop.",
                        count=len(groups),
                        merchant=company.name,
                    )
                )

    def _loyalty_plus_merchant(self):
        """The merchant (root company) of this shop. On the hot path of every till operation:
        cached per worker (companies are wide rows, and ``root_id`` fetches all of them)."""
        self.ensure_one()
        return self.browse(self._loyalty_plus_merchant_id()) if self.id else self

    @tools.ormcache("self.id")
    def _loyalty_plus_merchant_id(self):
        parent_path = self.sudo().with_context(prefetch_fields=False).parent_path
        return int(parent_path.split("/", 1)[0]) if parent_path else self.id

    def _loyalty_plus_get_name(self):
        """The shop's name as the cards show it (cached: every till operation shows it)."""
        self.ensure_one()
        return self._loyalty_plus_name(self.id, self.env.lang)

    @tools.ormcache("company_id", "lang")
    def _loyalty_plus_name(self, company_id, lang):
        return self.sudo().browse(company_id).with_context(prefetch_fields=False, lang=lang).name

    def write(self, vals):
        if "parent_id" in vals or "name" in vals:
            self.env.registry.clear_cache()  # the shops' merchants and names
        return super().write(vals)

    def _loyalty_plus_is_shop_of(self, merchant):
        """True when ``self`` is ``merchant`` or one of its branches."""
        self.ensure_one()
        return self._loyalty_plus_merchant() == merchant

    def _loyalty_plus_check_shop_of(self, merchant):
        """Refuse a shop that is neither ``merchant`` nor one of its branches."""
        if not self._loyalty_plus_is_shop_of(merchant):
            raise ValidationError(
                self.env._("%(shop)s is not a shop of %(merchant)s.", shop=self.name, merchant=merchant.name)
            )
