from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .loyalty_plus_program import LIVE_REWARD_FIELDS


class LoyaltyPlusReward(models.Model):
    _name = "loyalty_plus.reward"
    _inherit = ["loyalty_plus.program.mixin", "loyalty_plus.catalog.mixin"]
    _catalog_live_fields = LIVE_REWARD_FIELDS
    _description = "Loyalty+ reward"
    _order = "program_id, sequence, points_cost, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    program_id = fields.Many2one("loyalty_plus.program", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    points_cost = fields.Integer(string="Points", required=True)
    reward_kind = fields.Selection(
        selection=[
            ("amount", "Amount off"),
            ("percent", "Percent off"),
            ("product", "Free product"),
            ("voucher", "Voucher"),
        ],
        string="Kind",
        required=True,
        default="amount",
    )
    discount_amount = fields.Monetary(string="Amount off")
    discount_percent = fields.Float(string="Percent off", digits=(5, 2))
    product_id = fields.Many2one("product.product", string="Free product", check_company=True)
    limited_stock = fields.Boolean()
    stock_qty = fields.Integer(string="In stock", required=True, default=0)
    date_from = fields.Date(string="Valid from")
    date_to = fields.Date(string="Valid until")
    image = fields.Image(max_width=512, max_height=512)

    _points_cost_positive = models.Constraint("CHECK (points_cost > 0)", "A reward costs at least one point.")
    _stock_positive = models.Constraint("CHECK (stock_qty >= 0)", "Reward stock cannot be negative.")
    _discount_positive = models.Constraint(
        "CHECK (discount_amount >= 0 AND discount_percent >= 0 AND discount_percent <= 100)",
        "A discount is between 0 and 100 percent, and never a negative amount.",
    )
    _dates_ordered = models.Constraint(
        "CHECK (date_from IS NULL OR date_to IS NULL OR date_from <= date_to)",
        "A reward cannot end before it starts.",
    )

    @api.constrains("reward_kind", "discount_amount", "discount_percent", "product_id")
    def _check_kind_values(self):
        for reward in self:
            if reward.reward_kind == "amount" and not reward.discount_amount:
                raise ValidationError(self.env._("Reward %(name)s: set the amount off.", name=reward.name))
            if reward.reward_kind == "percent" and not reward.discount_percent:
                raise ValidationError(self.env._("Reward %(name)s: set the percent off.", name=reward.name))
            if reward.reward_kind == "product" and not reward.product_id:
                raise ValidationError(self.env._("Reward %(name)s: choose the free product.", name=reward.name))

    def _is_available(self, today=None):
        """Whether the reward can be redeemed on ``today`` (default: today for the user): active,
        in its dates, in stock."""
        self.ensure_one()
        if not self.active or (self.limited_stock and self.stock_qty <= 0):
            return False
        if not (self.date_from or self.date_to):
            return True  # no need of today: it costs the user's timezone, a read of their partner
        today = today or fields.Date.context_today(self)
        return (not self.date_from or self.date_from <= today) and (not self.date_to or self.date_to >= today)
