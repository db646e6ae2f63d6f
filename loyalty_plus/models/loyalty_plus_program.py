import math

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..exceptions import LoyaltyPlusRefusal

# what redemptions change: never taken from a worker's copy of the catalog
LIVE_REWARD_FIELDS = ("stock_qty",)


def _column_values(records, exclude=()):
    """The cache values of the stored columns of ``records`` (as ``_fetch_query`` puts them)."""
    names = [
        name
        for name, field in records._fields.items()
        if field.store
        and field.column_type
        and field.prefetch is True
        and not field.company_dependent
        and name not in exclude
    ]
    records.fetch(names)
    return tuple(
        (name, tuple(records._fields[name]._get_cache(records.env)[id_] for id_ in records._ids)) for name in names
    )


def _insert_values(records, values):
    """Put ``values`` (from ``_column_values``) in the ORM cache of ``records``, keeping what the
    transaction already holds (its own pending changes)."""
    for name, column in values:
        records._fields[name]._insert_cache(records, column)


class LoyaltyPlusProgram(models.Model):
    _name = "loyalty_plus.program"
    _description = "Loyalty+ program"
    _inherit = ["mail.thread"]
    _order = "active desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    activation_date = fields.Datetime(readonly=True, copy=False)
    company_id = fields.Many2one(
        "res.company",
        string="Merchant",
        required=True,
        index=True,
        default=lambda self: self.env.company.root_id,
        domain=[("parent_id", "=", False)],
    )
    # stored: every ledger row carries it, and reading it through the (wide) company row costs a query
    currency_id = fields.Many2one(related="company_id.currency_id", store=True)
    program_type = fields.Selection(
        selection=[("stamps", "Stamps"), ("points", "Points"), ("hybrid", "Stamps and points")],
        string="Type",
        required=True,
        default="stamps",
        tracking=True,
    )
    # stamps
    stamps_target = fields.Integer(string="Stamps for a reward", default=10, tracking=True)
    stamps_reward_description = fields.Char(string="Stamp reward", translate=True, default="Free item")
    stamps_reward_value = fields.Monetary(
        string="Stamp reward value", help="What the stamp reward is worth, for reports"
    )
    # points
    points_per_euro = fields.Float(string="Points per euro", default=1.0, digits=(16, 2), tracking=True)
    minimum_purchase = fields.Monetary(string="Minimum purchase", help="Purchases below this amount earn no points")
    minimum_redemption_points = fields.Integer(
        string="Minimum balance to redeem", default=100, help="A card needs at least this balance to redeem a reward"
    )
    welcome_bonus_points = fields.Integer(string="Welcome bonus", help="Points given when a card is created")
    points_expiration_days = fields.Integer(
        string="Points expire after (days inactive)", help="Days without activity after which points expire; 0: never"
    )
    # lifecycle
    birthday_bonus_points = fields.Integer(
        string="Birthday bonus", help="Points given on the customer's birthday (points programs); 0: none"
    )
    reengagement_days = fields.Integer(
        string="Re-engage after (days inactive)",
        default=60,
        help="Members inactive this long get a re-engagement email (at most once a quarter); 0: never",
    )
    tier_change_email = fields.Boolean(
        string="Email tier changes", help="Tell members by email when the daily tier review moves them"
    )
    # anti-fraud
    stamp_cooldown_minutes = fields.Integer(string="Minutes between stamps", default=15)
    max_stamps_per_day = fields.Integer(string="Stamps per card per day", default=5, help="0: no daily limit")
    require_staff_pin = fields.Boolean(string="Staff PIN required", default=True)
    fraud_threshold = fields.Float(
        string="Fraud watch threshold",
        default=2.0,
        digits=(16, 2),
        help="The fraud watch flags a staff member whose stamps per hour, or voids and adjustments, "
        "exceed this many times the shop's norm",
    )
    # reports
    point_value = fields.Float(
        string="Value of a point",
        digits=(16, 4),
        help="What one point costs the merchant when it is redeemed: the points liability is the points "
        "outstanding times this value",
    )
    # branding
    card_name = fields.Char(translate=True, help="Name printed on the card and the wallet passes")
    primary_color = fields.Char(default="#4F46E5")
    secondary_color = fields.Char(default="#FFFFFF")
    logo = fields.Image(max_width=512, max_height=512)
    hero_image = fields.Image(max_width=1920, max_height=1080)
    # terms
    terms_text = fields.Html(string="Terms", translate=True, sanitize=True)
    privacy_url = fields.Char(string="Privacy policy URL")
    terms_url = fields.Char(
        compute="_compute_terms_url", string="Terms address", help="Where customers read the program's terms"
    )

    # earning
    earning_tax_base = fields.Selection(
        [("included", "Tax included"), ("excluded", "Tax excluded")],
        string="Earn on",
        default="included",
        required=True,
        help="Whether stamps and points are counted on prices with or without tax",
    )
    campaign_stacking = fields.Selection(
        [("best", "Best campaign only"), ("additive", "Add up, with a cap")],
        string="Campaigns at once",
        default="best",
        required=True,
        help="When several campaigns apply to an order: the most generous one, or all of them",
    )
    campaign_bonus_cap = fields.Integer(
        string="Most bonus points per order",
        help="With campaigns added up: the most bonus points they give an order; 0: no cap",
    )
    earning_rule_ids = fields.One2many("loyalty_plus.earning_rule", "program_id", string="Earning rules")
    campaign_ids = fields.One2many("loyalty_plus.campaign", "program_id", string="Campaigns")
    reward_ids = fields.One2many("loyalty_plus.reward", "program_id", string="Rewards")
    tier_ids = fields.One2many("loyalty_plus.tier", "program_id", string="Tiers")
    staff_pin_ids = fields.One2many("loyalty_plus.staff_pin", "program_id", string="Staff PINs")
    card_ids = fields.One2many("loyalty_plus.card", "program_id", string="Cards")
    card_count = fields.Integer(compute="_compute_card_count")
    has_stamps = fields.Boolean(compute="_compute_has_stamps_points")
    has_points = fields.Boolean(compute="_compute_has_stamps_points")

    _stamps_target_positive = models.Constraint("CHECK (stamps_target >= 1)", "A stamp card needs at least one stamp.")
    _points_per_euro_positive = models.Constraint("CHECK (points_per_euro >= 0)", "Points per euro cannot be negative.")
    _welcome_bonus_positive = models.Constraint(
        "CHECK (welcome_bonus_points >= 0)", "The welcome bonus cannot be negative."
    )
    _minimum_purchase_positive = models.Constraint(
        "CHECK (minimum_purchase >= 0)", "The minimum purchase cannot be negative."
    )
    _minimum_redemption_positive = models.Constraint(
        "CHECK (minimum_redemption_points >= 0)", "The minimum balance to redeem cannot be negative."
    )
    _anti_fraud_positive = models.Constraint(
        "CHECK (stamp_cooldown_minutes >= 0 AND max_stamps_per_day >= 0 AND points_expiration_days >= 0)",
        "Cooldown, daily limit and expiry cannot be negative.",
    )
    _report_settings_positive = models.Constraint(
        "CHECK (point_value >= 0 AND fraud_threshold > 0)",
        "The value of a point cannot be negative and the fraud watch threshold must be positive.",
    )
    _campaign_cap_positive = models.Constraint(
        "CHECK (campaign_bonus_cap >= 0)", "The most bonus points of an order cannot be negative."
    )
    _lifecycle_positive = models.Constraint(
        "CHECK (birthday_bonus_points >= 0 AND reengagement_days >= 0)",
        "The birthday bonus and the re-engagement delay cannot be negative.",
    )
    _one_active_per_merchant = models.UniqueIndex(
        "(company_id) WHERE active", "A merchant runs one active program: archive the other one first."
    )

    def _compute_card_count(self):
        counts = dict(
            self.env["loyalty_plus.card"]._read_group(
                [("program_id", "in", self.ids)], groupby=["program_id"], aggregates=["__count"]
            )
        )
        for program in self:
            program.card_count = counts.get(program._origin, 0)

    def _compute_terms_url(self):
        """The full address of the program's terms (the website addon publishes them)."""
        self.terms_url = False

    @api.depends("program_type")
    def _compute_has_stamps_points(self):
        for program in self:
            program.has_stamps = program.program_type in ("stamps", "hybrid")
            program.has_points = program.program_type in ("points", "hybrid")

    @api.constrains("company_id")
    def _check_company_is_merchant(self):
        for program in self:
            if program.company_id.parent_id:
                raise ValidationError(
                    self.env._(
                        "A program belongs to the merchant %(merchant)s, not to its shop %(shop)s.",
                        merchant=program.company_id.root_id.name,
                        shop=program.company_id.name,
                    )
                )

    @api.constrains("primary_color", "secondary_color")
    def _check_colors(self):
        for program in self:
            for color in (program.primary_color, program.secondary_color):
                if color and not (
                    len(color) == 7 and color[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in color[1:])
                ):
                    raise ValidationError(self.env._("%(color)s is not a colour like #4F46E5.", color=color))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("active", True):
                vals.setdefault("activation_date", fields.Datetime.now())
        programs = super().create(vals_list)
        # a stamp card without a rule would earn nothing on a sale: one stamp per visit to start with
        self.env["loyalty_plus.earning_rule"].create(
            [
                {"program_id": program.id, "name": self.env._("One stamp per visit"), "rule_type": "stamps_visit"}
                for program in programs.filtered(lambda p: p.has_stamps and not p.earning_rule_ids)
            ]
        )
        return programs

    def write(self, vals):
        if "company_id" in vals and self.card_ids:
            raise UserError(self.env._("A program with cards cannot move to another merchant."))
        if vals.get("active"):
            for program in self.filtered(lambda p: not p.activation_date):
                program.activation_date = fields.Datetime.now()
        archived = self.filtered("active") if vals.get("active") is False else self.browse()
        restored = self.filtered(lambda p: not p.active) if vals.get("active") else self.browse()
        res = super().write(vals)
        self.env.registry.clear_cache()  # the workers' copies of the catalog
        if "company_id" in vals:
            self.check_access("write")  # record rules only saw where the program came from
        # archiving a program archives its cards; restoring it restores the cards it archived
        if archived:
            cards = self.env["loyalty_plus.card"].sudo().search([("program_id", "in", archived.ids)])
            cards.write({"active": False, "archived_with_program": True})
        if restored:
            cards = (
                self.env["loyalty_plus.card"]
                .sudo()
                .with_context(active_test=False)
                .search([("program_id", "in", restored.ids), ("archived_with_program", "=", True)])
            )
            cards.write({"active": True, "archived_with_program": False})
        return res

    def action_view_cards(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_card_action")
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action

    @api.model
    def _get_for_shop(self, shop):
        """The active program of the shop's merchant, or an empty recordset."""
        return self.search([("company_id", "=", shop._loyalty_plus_merchant().id)], limit=1)

    def _check_operable(self, supports=None):
        """Refuse an archived program, and one without ``supports`` ("stamps" or "points")."""
        self.ensure_one()
        self._prefetch_catalog()  # what the operation reads of the program, without a query
        if not self.active:
            raise LoyaltyPlusRefusal(
                "program_inactive", self.env._("The program %(program)s is not active.", program=self.name)
            )
        if supports == "stamps" and not self.has_stamps:
            raise LoyaltyPlusRefusal(
                "not_supported", self.env._("The program %(program)s has no stamps.", program=self.name)
            )
        if supports == "points" and not self.has_points:
            raise LoyaltyPlusRefusal(
                "not_supported", self.env._("The program %(program)s has no points.", program=self.name)
            )

    def _convert_purchase(self, amount, currency=None):
        """``amount`` (in ``currency``, default the program's) in the program's currency; refuses
        what is not a purchase amount."""
        self.ensure_one()
        try:
            amount = float(amount)
        except (TypeError, ValueError):
            raise LoyaltyPlusRefusal("validation_error", self.env._("The purchase amount must be a number.")) from None
        if not math.isfinite(amount) or amount <= 0:
            raise LoyaltyPlusRefusal("validation_error", self.env._("The purchase amount must be above zero."))
        if currency and currency != self.currency_id:
            amount = currency._convert(amount, self.currency_id, self.company_id, fields.Date.context_today(self))
        return amount

    def _check_minimum_purchase(self, amount):
        """Refuse a purchase of ``amount`` (program currency) below the minimum that earns points."""
        self.ensure_one()
        if self.minimum_purchase and self.currency_id.compare_amounts(amount, self.minimum_purchase) < 0:
            raise LoyaltyPlusRefusal(
                "below_minimum_purchase",
                self.env._(
                    "Below the minimum purchase: %(amount)s spent, %(minimum)s needed to earn points.",
                    amount=self.currency_id.format(amount),
                    minimum=self.currency_id.format(self.minimum_purchase),
                ),
            )

    def _get_points_for_amount(self, amount, tier=None):
        """Points a purchase of ``amount`` (program currency) earns, with ``tier``'s multiplier."""
        self.ensure_one()
        multiplier = (tier and tier.multiplier) or 1.0
        # a small epsilon so that 10.00 * 1.1 gives 11, not 10.999…
        return math.floor(amount * self.points_per_euro * multiplier + 1e-9)

    def _get_tier_for_points(self, points):
        """The highest tier whose threshold ``points`` (earned over 12 months) reaches."""
        self.ensure_one()
        eligible = self.tier_ids.filtered(lambda t: t.threshold_points <= points)
        return eligible.sorted("threshold_points")[-1:] if eligible else self.env["loyalty_plus.tier"]

    def _get_points_rate_label(self):
        """The points per euro as the customer reads them in their language ("0,5" in French),
        with only the decimals the rate has."""
        self.ensure_one()
        rate = self.sudo().points_per_euro
        return tools.formatLang(self.env, rate, digits=len(f"{rate:g}".partition(".")[2]))

    def _get_available_rewards(self):
        """Rewards of the catalog that can be redeemed today (active, in their dates, in stock)."""
        self.ensure_one()
        return self._prefetch_catalog().filtered(lambda reward: reward._is_available())

    def _prefetch_catalog(self):
        """The program's active rewards, cheapest first, with the program and the rewards put in
        the ORM cache from this worker's copy: every lookup and till operation reads them, and
        they change seldom (a change clears every worker's copy). Its tiers come with it; stocks
        are read live."""
        self.ensure_one()
        program_values, reward_ids, reward_values, tier_ids, tier_values = self._get_catalog_values(
            self.id, self.env.lang
        )
        _insert_values(self, program_values)
        self._fields["tier_ids"]._insert_cache(self, [tier_ids])
        _insert_values(self.env["loyalty_plus.tier"].browse(tier_ids), tier_values)
        rewards = self.env["loyalty_plus.reward"].browse(reward_ids)
        _insert_values(rewards, reward_values)
        return rewards

    @tools.ormcache("program_id", "lang")
    def _get_catalog_values(self, program_id, lang):
        env = self.env(context=dict(self.env.context, lang=lang, active_test=True), su=True)
        program = env["loyalty_plus.program"].with_context(active_test=False).browse(program_id)
        rewards = env["loyalty_plus.reward"].search([("program_id", "=", program_id)], order="points_cost, id")
        tiers = program.tier_ids
        return (
            _column_values(program),
            tuple(rewards.ids),
            _column_values(rewards, exclude=LIVE_REWARD_FIELDS),
            tuple(tiers.ids),
            _column_values(tiers),
        )
