from odoo import api, models, tools
from odoo.fields import Command


class PosConfig(models.Model):
    _inherit = "pos.config"

    @api.model
    def _load_pos_data_read(self, records, config):
        read_records = super()._load_pos_data_read(records, config)
        if read_records:
            read_records[0]["_lp_discount_product_id"] = self._lp_get_discount_product().id
        return read_records

    def write(self, vals):
        if "company_id" in vals or "active" in vals:
            self.env.registry.clear_cache()  # _lp_get_company_id
        return super().write(vals)

    @api.model
    @tools.ormcache("config_id")
    def _lp_get_company_id(self, config_id):
        """The company (shop) of the active till ``config_id``, or 0; cached: every till call asks."""
        config = self.sudo().search_fetch([("id", "=", config_id)], ["company_id"], limit=1)
        return config.company_id.id or 0

    @api.model
    def _lp_get_discount_product(self):
        """The product of the discount lines that point rewards add to an order."""
        return (
            self.env.ref("loyalty_plus_pos.product_loyalty_plus_reward", raise_if_not_found=False)
            or self.env["product.product"]
        )

    @api.model
    def _lp_demo_chart(self, shop):
        """Demo: the generic chart of accounts for the shop's merchant (and the shop)."""
        Template = self.env["account.chart.template"]
        companies = shop.root_id | shop
        # the generic chart is American: the merchant and its shops keep their currency and country
        kept = {company: (company.currency_id, company.country_id) for company in companies}
        for company in companies:
            if not company.chart_template:
                Template._load(shop.root_id.chart_template or "generic_coa", company, install_demo=False)
        for company, (currency, country) in kept.items():
            vals = {"currency_id": currency.id, "account_fiscal_country_id": country.id}
            if country and (company.currency_id, company.account_fiscal_country_id) != (currency, country):
                company.write(vals)

    @api.model
    def _lp_create_demo_configs(self):
        """Demo: one till per shop of the demo merchants, limited to the merchant's own POS
        categories. A branch shares its parent's accounting (Odoo 17+), so the merchant gets a chart
        of accounts and the branches its company data."""
        bakery = ["viennoiseries", "breads", "cakes", "drinks", "gift_cards"]
        cafe = ["cafe_coffee", "cafe_cakes"]
        shops = [
            ("loyalty_plus.demo_company_bakery", "pos_config_demo_bakery_luxembourg", bakery),
            ("loyalty_plus.demo_company_bakery_esch", "pos_config_demo_bakery_esch", bakery),
            ("loyalty_plus.demo_company_bakery_differdange", "pos_config_demo_bakery_differdange", bakery),
            ("loyalty_plus.demo_company_cafe", "pos_config_demo_cafe", cafe),
        ]
        for shop_xmlid, config_xmlid, categories in shops:
            shop = self.env.ref(shop_xmlid, raise_if_not_found=False)
            if not shop or self.env.ref(f"loyalty_plus_pos.{config_xmlid}", raise_if_not_found=False):
                continue
            category_ids = [self.env.ref(f"loyalty_plus_pos.pos_category_demo_{name}").id for name in categories]
            self._lp_demo_chart(shop)
            PosConfig = self.with_company(shop).sudo()
            cash_journal_vals = {"name": self.env._("Cash %(shop)s", shop=shop.name), "show_on_dashboard": False}
            if shop == shop.root_id:
                journal, payment_methods = PosConfig._create_journal_and_payment_methods(
                    cash_journal_vals=cash_journal_vals
                )
            else:
                # a till takes payment methods of its own company; the branch's card payments
                # land in the merchant's bank journal it shares
                journal = PosConfig.env["account.journal"]._ensure_company_account_journal()
                bank_journal = PosConfig.env["account.journal"].search(
                    [("type", "=", "bank"), ("company_id", "in", shop.parent_ids.ids)], limit=1
                )
                card = PosConfig.env["pos.payment.method"].create(
                    {"name": self.env._("Card"), "journal_id": bank_journal.id, "company_id": shop.id}
                )
                payment_methods = (PosConfig._create_cash_payment_method(cash_journal_vals) | card).ids
            config = PosConfig.create(
                {
                    "name": shop.name,
                    "company_id": shop.id,
                    "journal_id": journal.id,
                    "payment_method_ids": payment_methods,
                    "limit_categories": True,
                    "iface_available_categ_ids": [Command.set(category_ids)],
                }
            )
            self.env["ir.model.data"]._update_xmlids(
                [{"xml_id": f"loyalty_plus_pos.{config_xmlid}", "record": config, "noupdate": True}]
            )
