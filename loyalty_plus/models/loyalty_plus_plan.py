from babel.numbers import format_currency, parse_pattern

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import babel_locale_parse
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

# The features a plan may include: the engine asks ``res.company._loyalty_plus_check_plan_feature``
# with one of these keys, each the plan's field ``feature_<key>``; what the pricing page and the
# refusals call it:
PLAN_FEATURES = {
    "points": _lt("Points system"),
    "standard_rewards": _lt("Standard rewards"),
    "advanced_rules": _lt("Advanced points rules"),
    "tiers": _lt("Member tiers"),
    "custom_rewards": _lt("Custom rewards"),
    "analytics": _lt("Analytics dashboard"),
    "api": _lt("Full API access"),
    "custom_integrations": _lt("Custom integrations"),
    "white_label": _lt("White-label options"),
}
SUPPORT_LABELS = {
    "email": _lt("Email support"),
    "priority": _lt("Priority support"),
    "dedicated": _lt("Dedicated support"),
}


class LoyaltyPlusPlan(models.Model):
    """What a merchant subscribes to: how many members and shops, and which features.

    The Loyalty administrator sets each merchant's plan (``res.company.loyalty_plus_plan_id``);
    the engine refuses what the plan excludes (``res.company._loyalty_plus_check_plan_*``), and
    the Loyalty+ pricing page lists the plans from these records. A limit of 0 means unlimited.
    """

    _name = "loyalty_plus.plan"
    _description = "Loyalty+ plan"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="Plans are offered in this order, from the smallest")
    active = fields.Boolean(default=True)
    is_default = fields.Boolean(
        string="Default for new merchants", help="The plan a new merchant starts on (one plan at most)"
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.ref("base.EUR", raise_if_not_found=False)
    )
    price_monthly = fields.Monetary(string="Price per month")
    is_recommended = fields.Boolean(string="Recommended", help="Highlighted on the pricing page")
    price_on_request = fields.Boolean(string="Custom price", help="The price is agreed with each merchant")
    max_members = fields.Integer(string="Members", help="Members (customers holding an active card); 0: unlimited")
    max_shops = fields.Integer(
        string="Shops", help="The merchant's shops (the merchant and its branches); 0: unlimited"
    )
    feature_points = fields.Boolean(string="Points system", default=True)
    feature_standard_rewards = fields.Boolean(string="Standard rewards", default=True)
    feature_advanced_rules = fields.Boolean(string="Advanced points rules")
    feature_tiers = fields.Boolean(string="Member tiers")
    feature_custom_rewards = fields.Boolean(string="Custom rewards")
    feature_analytics = fields.Boolean(string="Analytics dashboard", help="The merchant reports and the dashboard")
    feature_api = fields.Boolean(string="API access", help="Integrations and their API keys")
    feature_custom_integrations = fields.Boolean(string="Custom integrations")
    feature_white_label = fields.Boolean(string="White-label")
    support_level = fields.Selection(
        [("email", "Email"), ("priority", "Priority"), ("dedicated", "Dedicated")],
        string="Support",
        required=True,
        default="email",
    )
    company_ids = fields.One2many("res.company", "loyalty_plus_plan_id", string="Merchants")
    merchant_count = fields.Integer(string="Number of merchants", compute="_compute_merchant_count")

    _limits_positive = models.Constraint(
        "CHECK (max_members >= 0 AND max_shops >= 0 AND price_monthly >= 0)",
        "Limits and prices cannot be negative (0: unlimited).",
    )
    _one_default = models.UniqueIndex(
        "(is_default) WHERE is_default", "Only one plan is the default for new merchants."
    )

    def _compute_merchant_count(self):
        counts = dict(
            self.env["res.company"]._read_group(
                [("loyalty_plus_plan_id", "in", self.ids)], ["loyalty_plus_plan_id"], ["__count"]
            )
        )
        for plan in self:
            plan.merchant_count = counts.get(plan._origin, 0)

    @api.constrains("price_monthly", "price_on_request")
    def _check_price(self):
        for plan in self:
            if not plan.price_on_request and not plan.price_monthly:
                raise ValidationError(
                    self.env._("Plan %(plan)s: set its monthly price, or make it a custom price.", plan=plan.name)
                )

    def write(self, vals):
        self.env.registry.clear_cache()  # the workers' copies of the merchants' plan features
        return super().write(vals)

    @api.ondelete(at_uninstall=True)
    def _forget_plan_features(self):
        self.env.registry.clear_cache()

    def _includes(self, feature):
        self.ensure_one()
        return bool(self[f"feature_{feature}"])

    def _get_upgrade(self, feature=None, members=0, shops=0):
        """The first plan after this one (in the offered order) that includes ``feature``, or
        more than ``members`` members / ``shops`` shops; an empty recordset when none does."""
        for plan in self.search([]):
            if (plan.sequence, plan.id) <= (self.sequence, self.id) and self:
                continue
            if feature and not plan._includes(feature):
                continue
            if members and plan.max_members and plan.max_members <= members:
                continue
            if shops and plan.max_shops and plan.max_shops <= shops:
                continue
            return plan
        return self.browse()

    @api.model
    def _get_feature_label(self, feature):
        return self.env._(PLAN_FEATURES[feature])

    # ------------------------------------------------------------------
    # Pricing page
    # ------------------------------------------------------------------

    @api.model
    def _get_pricing_plans(self):
        """The active plans as the pricing page lists them, from the smallest."""
        return self.sudo().search([]).with_env(self.env)

    def _get_price_display(self):
        """The monthly price in the visitor's language conventions (whole euros: "€49", "49 €"),
        or the words for a price agreed with each merchant."""
        self.ensure_one()
        if self.price_on_request:
            return self.env._("Custom")
        locale = babel_locale_parse(self.env.lang or "en_US")
        pattern = locale.currency_formats["standard"].pattern.split(";")[0]
        decimals = 0 if self.price_monthly == int(self.price_monthly) else self.currency_id.decimal_places
        whole = pattern.replace(".00", "." + "0" * decimals if decimals else "")
        return format_currency(
            self.price_monthly, self.currency_id.name, format=parse_pattern(whole), locale=locale, currency_digits=False
        )

    def _get_pricing_lines(self):
        """What the pricing page lists under the plan: its limits, then the features it adds to
        the plan before it (all of them for the first plan), then its support."""
        self.ensure_one()
        plans = self._get_pricing_plans()
        previous = plans.filtered(lambda p: (p.sequence, p.id) < (self.sequence, self.id))[-1:]
        lines = []
        if previous:
            lines.append(self.env._("Everything in %(plan)s, plus:", plan=previous.name))
        if self.max_members:
            lines.append(self.env._("Up to %(count)s members", count=self._format_count(self.max_members)))
        else:
            lines.append(self.env._("Unlimited members"))
        if self.max_shops == 1:
            lines.append(self.env._("1 shop"))
        elif self.max_shops:
            lines.append(self.env._("Up to %(count)s shops", count=self._format_count(self.max_shops)))
        else:
            lines.append(self.env._("Unlimited shops"))
        for feature, label in PLAN_FEATURES.items():
            if self._includes(feature) and not (previous and previous._includes(feature)):
                lines.append(self.env._(label))
        lines.append(self.env._(SUPPORT_LABELS[self.support_level]))
        return lines

    def _format_count(self, count):
        """``count`` with the language's thousands separator ("5,000", "5 000", "5.000")."""
        lang = self.env["res.lang"]._lang_get(self.env.lang or "en_US")
        return lang.format("%d", count, grouping=True) if lang else str(count)

    def action_view_merchants(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Merchants on %(plan)s", plan=self.name),
            "res_model": "res.company",
            "views": [(False, "list"), (False, "form")],
            "domain": [("loyalty_plus_plan_id", "=", self.id)],
        }
