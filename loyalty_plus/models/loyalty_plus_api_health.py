from odoo import api, models

from ..exceptions import LoyaltyPlusRefusal
from .loyalty_plus_api import READ_OPERATIONS


class LoyaltyPlusApi(models.AbstractModel):
    """Integration calls refused by their rate limit counted per shop and operation (health checks)."""

    _inherit = "loyalty_plus.api"

    @api.model
    def _api_begin(self, operation, shop_id, params=None):
        try:
            return super()._api_begin(operation, shop_id, params=params)
        except LoyaltyPlusRefusal as refusal:
            if refusal.code == "rate_limited":
                self.env["loyalty_plus.rate_limit.refusal"]._count(
                    self._api_refused_shop(shop_id), f"api:{operation}", readonly=operation in READ_OPERATIONS
                )
            raise

    @api.model
    def _api_refused_shop(self, shop_id):
        """The shop a refused call was made for: the one it named when the integration may act for
        it, else the integration's first shop."""
        profile = self.env["loyalty_plus.integration"]._get_api_profile(self.env.uid)
        shop_ids = profile[3] if profile else ()
        shop = shop_id if isinstance(shop_id, int) and shop_id in shop_ids else (shop_ids[0] if shop_ids else False)
        return self.env["res.company"].browse(shop)
