from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EARNING_CAMPAIGN_TYPES = ("multiplier", "bonus", "first_visit_month")


class LoyaltyPlusCampaign(models.Model):
    _name = "loyalty_plus.campaign"
    _inherit = ["loyalty_plus.program.mixin", "loyalty_plus.catalog.mixin"]
    _description = "Loyalty+ campaign"
    _order = "program_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one("loyalty_plus.program", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    campaign_type = fields.Selection(
        [
            ("multiplier", "Multiplier"),
            ("bonus", "Bonus"),
            ("first_visit_month", "First visit of the month"),
            ("discount", "Discount promotion"),
        ],
        string="Type",
        required=True,
        default="multiplier",
    )
    apply_to = fields.Selection(
        [("points", "Points"), ("stamps", "Stamps"), ("both", "Points and stamps")], default="points", required=True
    )
    multiplier = fields.Float(digits=(16, 2), default=2.0)
    bonus_points = fields.Integer()
    bonus_stamps = fields.Integer()
    discount_type = fields.Selection(
        [("percent", "Percentage off"), ("fixed", "Amount off"), ("product", "Free product")], default="percent"
    )
    discount_value = fields.Float(digits=(16, 2), help="The percentage or the amount taken off the order")
    discount_product_id = fields.Many2one("product.product", string="Free product")
    # the window
    date_start = fields.Datetime(string="From")
    date_end = fields.Datetime(string="Until")
    monday = fields.Boolean()
    tuesday = fields.Boolean()
    wednesday = fields.Boolean()
    thursday = fields.Boolean()
    friday = fields.Boolean()
    saturday = fields.Boolean()
    sunday = fields.Boolean()
    hour_from = fields.Float(string="From hour", help="In the merchant's time zone; 0 and 0: all day")
    hour_to = fields.Float(string="To hour")
    shop_ids = fields.Many2many("res.company", string="Shops", help="Empty: every shop")
    tier_ids = fields.Many2many("loyalty_plus.tier", string="Tiers", help="Empty: every member")
    # conditions
    minimum_amount = fields.Monetary(string="Minimum spend")
    product_ids = fields.Many2many("product.product", string="Products", help="The order must hold one of them")
    category_ids = fields.Many2many("product.category", string="Product categories")
    # caps
    max_uses = fields.Integer(string="Uses in all", help="Orders it may apply to in all; 0: no cap")
    max_uses_per_member = fields.Integer(string="Uses per member", help="0: no cap")
    use_count = fields.Integer(
        string="Used", readonly=True, copy=False, default=0, help="Orders it applied to (counted for a capped campaign)"
    )
    state = fields.Selection(
        [("scheduled", "Scheduled"), ("running", "Running"), ("ended", "Ended")],
        compute="_compute_state",
        store=True,
        index=True,
    )

    _values_positive = models.Constraint(
        "CHECK (multiplier > 0 AND bonus_points >= 0 AND bonus_stamps >= 0 AND discount_value >= 0 "
        "AND max_uses >= 0 AND max_uses_per_member >= 0)",
        "Multipliers, bonuses, discounts and caps cannot be negative.",
    )
    _hours_valid = models.Constraint(
        "CHECK (hour_from >= 0 AND hour_to <= 24 AND hour_from <= hour_to)",
        "The hours of a campaign run from 0 to 24, the first before the second.",
    )
    _dates_valid = models.Constraint(
        "CHECK (date_start IS NULL OR date_end IS NULL OR date_start <= date_end)",
        "A campaign ends after it starts.",
    )

    @api.depends("date_start", "date_end", "active")
    def _compute_state(self):
        now = fields.Datetime.now()
        for campaign in self:
            if campaign.date_end and campaign.date_end < now:
                campaign.state = "ended"
            elif campaign.date_start and campaign.date_start > now:
                campaign.state = "scheduled"
            else:
                campaign.state = "running"

    @api.constrains("campaign_type", "discount_type", "discount_value", "discount_product_id")
    def _check_discount(self):
        for campaign in self.filtered(lambda c: c.campaign_type == "discount"):
            if campaign.discount_type == "product" and not campaign.discount_product_id:
                raise LoyaltyPlusRefusal("validation_error", self.env._("A free-product promotion needs its product."))
            if campaign.discount_type in ("percent", "fixed") and campaign.discount_value <= 0:
                raise LoyaltyPlusRefusal("validation_error", self.env._("A discount promotion needs its value."))
            if campaign.discount_type == "percent" and campaign.discount_value > 100:
                raise LoyaltyPlusRefusal("validation_error", self.env._("A discount cannot exceed 100 %."))

    @api.model
    def _cron_update_state(self):
        """Campaigns switch on and off by their dates: the engine decides on the time of each order;
        this keeps the lists' state (and its filters) in step, set-based."""
        now = fields.Datetime.now()
        self.flush_model(["date_start", "date_end", "state"])
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_campaign SET state = CASE
                        WHEN date_end IS NOT NULL AND date_end < %(now)s THEN 'ended'
                        WHEN date_start IS NOT NULL AND date_start > %(now)s THEN 'scheduled'
                        ELSE 'running' END
                    WHERE state IS DISTINCT FROM CASE
                        WHEN date_end IS NOT NULL AND date_end < %(now)s THEN 'ended'
                        WHEN date_start IS NOT NULL AND date_start > %(now)s THEN 'scheduled'
                        ELSE 'running' END""",
                now=now,
            )
        )
        self.invalidate_model(["state"])

    def _get_summary_label(self):
        """What the till and the preview say of the campaign: "x2 points", "+50 points", "-10 %"."""
        self.ensure_one()
        env = self.env
        if self.campaign_type == "multiplier":
            factor = f"{self.multiplier:g}"
            return {
                "points": env._("×%(factor)s points", factor=factor),  # noqa: RUF001
                "stamps": env._("×%(factor)s stamps", factor=factor),  # noqa: RUF001
                "both": env._("×%(factor)s points and stamps", factor=factor),  # noqa: RUF001
            }[self.apply_to]
        if self.campaign_type in ("bonus", "first_visit_month"):
            parts = []
            if self.bonus_points:
                parts.append(env._("+%(count)s points", count=self.bonus_points))
            if self.bonus_stamps:
                parts.append(env._("+%(count)s stamps", count=self.bonus_stamps))
            return ", ".join(parts)
        if self.discount_type == "percent":
            return env._("-%(value)s %%", value=f"{self.discount_value:g}")
        if self.discount_type == "fixed":
            return env._("-%(amount)s", amount=self.currency_id.format(self.discount_value))
        return env._("Free %(product)s", product=self.discount_product_id.display_name)

    def _get_catalog_facts(self):
        """What the engine reads of the campaigns on every earning, as plain values (a worker's copy)."""
        return tuple(
            {
                "id": campaign.id,
                "name": campaign.name,
                "type": campaign.campaign_type,
                "label": campaign._get_summary_label(),
                "apply_to": campaign.apply_to,
                "multiplier": campaign.multiplier,
                "bonus_points": campaign.bonus_points,
                "bonus_stamps": campaign.bonus_stamps,
                "date_start": campaign.date_start,
                "date_end": campaign.date_end,
                "weekdays": frozenset(i for i, day in enumerate(WEEKDAYS) if campaign[day]),
                "hour_from": campaign.hour_from,
                "hour_to": campaign.hour_to,
                "shop_ids": frozenset(campaign.shop_ids.ids),
                "tier_ids": frozenset(campaign.tier_ids.ids),
                "minimum_amount": campaign.minimum_amount,
                "product_ids": frozenset(campaign.product_ids.ids),
                "category_ids": frozenset(campaign.category_ids.ids),
                "max_uses": campaign.max_uses,
                "max_uses_per_member": campaign.max_uses_per_member,
            }
            for campaign in self
        )

    def _check_promotion(self, card, lines, shop, now=None):
        """The discount this promotion gives on an order of ``lines`` (see the program's
        ``_compute_earnings``) for ``card`` in ``shop`` now, or a refusal:
        ``promotion_not_applicable`` (not running here and now, conditions not met),
        ``promotion_cap_reached``."""
        self.ensure_one()
        campaign = self.sudo()
        program = card.sudo().program_id
        if campaign.campaign_type != "discount" or campaign.program_id != program:
            raise LoyaltyPlusRefusal("promotion_not_applicable", self.env._("This promotion does not exist here."))
        order = program._prepare_order(card, lines, shop, now)
        facts = next((c for c in order["campaigns"] if c["id"] == campaign.id), None)
        reason = program._get_campaign_refusal(facts, order) if facts else "window"
        if reason == "cap":
            raise LoyaltyPlusRefusal(
                "promotion_cap_reached",
                self.env._("The promotion %(name)s was used as often as it may be.", name=campaign.name),
            )
        if reason:
            raise LoyaltyPlusRefusal(
                "promotion_not_applicable",
                self.env._("The promotion %(name)s does not apply to this order.", name=campaign.name),
            )
        values = {
            "campaign_id": campaign.id,
            "description": campaign.name,
            "kind": {"percent": "percent", "fixed": "amount", "product": "product"}[campaign.discount_type],
            "percent": 0.0,
            "amount": 0.0,
            "product_id": False,
        }
        if campaign.discount_type == "percent":
            values["percent"] = campaign.discount_value
        elif campaign.discount_type == "fixed":
            values["amount"] = min(campaign.discount_value, order["base"])
        else:
            values["product_id"] = campaign.discount_product_id.id
        return values

    def _give_back_use(self):
        """An order that used these campaigns came back in full: the use counts no more against
        a cap in all (``use_count`` counts the uses of a capped campaign only)."""
        if not self:
            return
        self.flush_recordset(["use_count"])
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_campaign SET use_count = use_count - 1
                    WHERE id IN %s AND max_uses > 0 AND use_count > 0""",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["use_count"])
