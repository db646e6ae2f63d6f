from odoo import api, models


class LoyaltyPlusCatalogMixin(models.AbstractModel):
    _name = "loyalty_plus.catalog.mixin"
    _description = "Loyalty+ record of the programs' catalog"

    # fields the workers' copies of the catalog never hold (read live): writing only them keeps the copies
    _catalog_live_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # every worker's copy of the programs' catalogs
        return super().create(vals_list)

    def write(self, vals):
        if set(vals) - set(self._catalog_live_fields):
            self.env.registry.clear_cache()
        return super().write(vals)

    @api.ondelete(at_uninstall=True)
    def _forget_catalog(self):
        self.env.registry.clear_cache()
