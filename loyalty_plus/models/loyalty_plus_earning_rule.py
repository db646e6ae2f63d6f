from odoo import api, fields, models

from ..exceptions import LoyaltyPlusRefusal

RULE_TYPES = [
    ("stamps_visit", "Stamps per visit"),
    ("stamps_item", "Stamps per item"),
    ("stamps_spend", "Stamps per amount spent"),
    ("points_spend", "Points per euro"),
    ("points_multiplier", "Points multiplier"),
]
STAMP_RULE_TYPES = ("stamps_visit", "stamps_item", "stamps_spend")


class LoyaltyPlusEarningRule(models.Model):
    _name = "loyalty_plus.earning_rule"
    _inherit = ["loyalty_plus.program.mixin", "loyalty_plus.catalog.mixin"]
    _description = "Loyalty+ earning rule"
    _order = "program_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one("loyalty_plus.program", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    rule_type = fields.Selection(RULE_TYPES, string="Type", required=True, default="stamps_visit")
    stamps = fields.Integer(default=1, help="Stamps per visit, per item, or per amount spent")
    minimum_amount = fields.Monetary(string="Minimum spend", help="A visit earns its stamps from this amount")
    spend_step = fields.Monetary(
        string="Amount per stamp",
        help="Every time the customer's spending reaches this amount, a stamp; the rest carries over",
    )
    points_per_euro = fields.Float(string="Points per euro", digits=(16, 2), default=1.0)
    multiplier = fields.Float(digits=(16, 2), default=2.0)
    product_ids = fields.Many2many("product.product", string="Products")
    category_ids = fields.Many2many(
        "product.category", string="Product categories", help="Products of these categories and their subcategories"
    )

    _stamps_positive = models.Constraint("CHECK (stamps >= 0)", "Stamps of a rule cannot be negative.")
    _amounts_positive = models.Constraint(
        "CHECK (minimum_amount >= 0 AND spend_step >= 0 AND points_per_euro >= 0 AND multiplier > 0)",
        "Amounts, rates and multipliers of a rule cannot be negative.",
    )

    @api.constrains("rule_type", "spend_step", "program_id", "active")
    def _check_spend_rule(self):
        for rule in self.filtered(lambda r: r.rule_type == "stamps_spend"):
            if rule.currency_id.compare_amounts(rule.spend_step, 0) <= 0:
                raise LoyaltyPlusRefusal(
                    "validation_error", self.env._("A stamp per amount spent needs the amount of a stamp.")
                )
            others = rule.program_id.earning_rule_ids.filtered(lambda r: r.rule_type == "stamps_spend") - rule
            if rule.active and others:
                raise LoyaltyPlusRefusal(
                    "validation_error",
                    self.env._("A program has one rule of stamps per amount spent: the customer has one spend bank."),
                )

    def _get_catalog_facts(self):
        """What the engine reads of the rules on every earning, as plain values (a worker's copy)."""
        return tuple(
            {
                "id": rule.id,
                "name": rule.name,
                "type": rule.rule_type,
                "stamps": rule.stamps,
                "minimum_amount": rule.minimum_amount,
                "spend_step": rule.spend_step,
                "points_per_euro": rule.points_per_euro,
                "multiplier": rule.multiplier,
                "product_ids": frozenset(rule.product_ids.ids),
                "category_ids": frozenset(rule.category_ids.ids),
            }
            for rule in self
        )
