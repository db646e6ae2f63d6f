import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ResCompany(models.Model):
    _inherit = "res.company"

    loyalty_plus_slug = fields.Char(
        string="Enrollment link name",
        copy=False,
        help="Lower-case words joined by dashes, used in the enrollment link /loyalty/<name>/join",
    )

    _loyalty_plus_slug_unique = models.UniqueIndex(
        "(loyalty_plus_slug) WHERE loyalty_plus_slug IS NOT NULL",
        "Another merchant already uses this enrollment link name.",
    )

    @api.constrains("loyalty_plus_slug", "parent_id")
    def _check_loyalty_plus_slug(self):
        for company in self.filtered("loyalty_plus_slug"):
            if not SLUG_RE.match(company.loyalty_plus_slug):
                raise ValidationError(
                    self.env._(
                        "%(slug)s is not a valid link name: use lower-case letters, digits and dashes.",
                        slug=company.loyalty_plus_slug,
                    )
                )
            if company.parent_id:
                raise ValidationError(
                    self.env._("Only a merchant (a company without parent) has an enrollment link name.")
                )

    def _loyalty_plus_get_shops(self):
        """The merchant and its branches, in a stable order."""
        self.ensure_one()
        return self.sudo().search([("id", "child_of", self.root_id.id)], order="parent_path, name")

    def _loyalty_plus_enroll_url(self, shop=None):
        self.ensure_one()
        url = f"/loyalty/{self.root_id.loyalty_plus_slug}/join"
        return f"{url}?shop={shop.id}" if shop and shop != self.root_id else url
