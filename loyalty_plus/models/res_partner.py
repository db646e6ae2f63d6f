from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    loyalty_plus_card_ids = fields.One2many("loyalty_plus.card", "partner_id", string="Loyalty cards")
    loyalty_plus_card_count = fields.Integer(compute="_compute_loyalty_plus_card_count", string="Loyalty cards count")
    birthday = fields.Date()

    @api.depends("loyalty_plus_card_ids")
    def _compute_loyalty_plus_card_count(self):
        counts = dict(
            self.env["loyalty_plus.card"]._read_group(
                [("partner_id", "in", self.ids)], groupby=["partner_id"], aggregates=["__count"]
            )
        )
        for partner in self:
            partner.loyalty_plus_card_count = counts.get(partner._origin, 0)

    def action_view_loyalty_plus_cards(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_plus.loyalty_plus_card_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
