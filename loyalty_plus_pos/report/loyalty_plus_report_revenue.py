from odoo import fields, models
from odoo.tools import SQL


class LoyaltyPlusReportRevenue(models.Model):
    """The point of sale's revenue from members (an order paid with a Loyalty+ card) and from other
    customers, per shop and month: one row per paid order, read from the order's own fields.

    The shop is the company the order was made in; its merchant is the shop's root company."""

    _name = "loyalty_plus.report.revenue"
    _inherit = ["loyalty_plus.report.mixin"]
    _auto = False
    _description = "Loyalty+ revenue attribution"
    _order = "date desc, id desc"
    _rec_name = "order_id"
    _depends = {
        "pos.order": [
            "date_order",
            "company_id",
            "session_id",
            "lp_card_id",
            "partner_id",
            "amount_total",
            "amount_tax",
            "state",
        ],
    }

    order_id = fields.Many2one("pos.order", string="Order", readonly=True)
    date = fields.Datetime(string="Order date", readonly=True)
    company_id = fields.Many2one("res.company", string="Merchant", readonly=True)
    shop_id = fields.Many2one("res.company", string="Shop", readonly=True)
    config_id = fields.Many2one("pos.config", string="Point of sale", readonly=True)
    customer_type = fields.Selection(
        [("member", "Members"), ("other", "Other customers")], string="Customer", readonly=True
    )
    card_id = fields.Many2one("loyalty_plus.card", string="Card", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer name", readonly=True)
    customer_key = fields.Integer(
        string="Customers",
        readonly=True,
        aggregator="count_distinct",
        help="Distinct members (by card) or named customers; anonymous orders count for none",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    revenue = fields.Monetary(string="Revenue (tax incl.)", readonly=True)
    revenue_untaxed = fields.Monetary(string="Revenue (tax excl.)", readonly=True)
    basket = fields.Monetary(string="Average basket", readonly=True, aggregator="avg")

    def _query(self):
        return SQL(
            """
            SELECT o.id, o.id AS order_id, o.date_order AS date,
                   split_part(shop.parent_path, '/', 1)::int AS company_id, o.company_id AS shop_id,
                   o.config_id,
                   CASE WHEN o.lp_card_id IS NOT NULL THEN 'member' ELSE 'other' END AS customer_type,
                   o.lp_card_id AS card_id, o.partner_id,
                   CASE WHEN o.lp_card_id IS NOT NULL THEN o.lp_card_id ELSE -o.partner_id END AS customer_key,
                   shop.currency_id,
                   o.amount_total AS revenue, o.amount_total - o.amount_tax AS revenue_untaxed,
                   o.amount_total AS basket
              FROM pos_order o
              JOIN res_company shop ON shop.id = o.company_id
             WHERE o.state IN ('paid', 'done')
            """
        )
