from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    lp_earning_excluded = fields.Boolean(
        string="Earns no loyalty",
        help="Sales of this product earn no stamps and no points (gift cards, deposits, tips, tobacco)",
    )
