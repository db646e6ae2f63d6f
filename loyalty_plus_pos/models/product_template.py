from odoo import models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def _load_pos_data_search_read(self, data, config):
        """Load the products reward lines need even when the till does not sell them."""
        read_data = super()._load_pos_data_search_read(data, config)
        program = self.env["loyalty_plus.program"]._get_for_shop(config.company_id)
        if not program:
            return read_data
        products = (
            program.reward_ids.product_id
            | program.stamps_reward_product_id
            | self.env["pos.config"]._lp_get_discount_product()
        )
        loaded = {template["id"] for template in read_data}
        missing = products._filtered_access("read").product_tmpl_id.filtered(lambda t: t.id not in loaded)
        if missing:
            read_data.extend(missing.read(self._load_pos_data_fields(config), load=False))
            config_data = data["pos.config"][0]
            # shown on the order when a reward adds them, never in the product grid
            config_data["_pos_special_products_ids"] += missing.product_variant_id.ids
        return read_data
