from odoo import fields, models
from odoo.exceptions import ValidationError


class LoyaltyPlusMerchantRequest(models.Model):
    """A business asking to start with Loyalty+, sent from the "Get started" form of the
    Loyalty+ pages (Odoo's website form), for the platform team to answer."""

    _name = "loyalty_plus.merchant_request"
    _description = "Loyalty+ merchant request"
    _order = "id desc"
    _rec_name = "business_name"

    business_name = fields.Char(string="Business", required=True)
    contact_name = fields.Char(string="Contact", required=True)
    email = fields.Char(required=True)
    phone = fields.Char()
    shop_count = fields.Integer(string="Shops", help="How many shops the business runs")
    plan = fields.Selection(
        selection=[("starter", "Starter"), ("growth", "Growth"), ("enterprise", "Enterprise")],
        string="Plan of interest",
    )
    message = fields.Text()
    state = fields.Selection(
        selection=[("new", "New"), ("contacted", "Contacted"), ("done", "Done")],
        default="new",
        required=True,
    )

    def website_form_input_filter(self, request, values):
        """What the website form sends (anonymous input): trimmed, bounded, and refused when a
        required field is missing (the form then marks the fields to fill in)."""
        values = dict(values)
        for name in ("business_name", "contact_name", "email", "phone"):
            if isinstance(values.get(name), str):
                values[name] = values[name].strip()[:200]
        if isinstance(values.get("message"), str):
            values["message"] = values["message"].strip()[:5000]
        # the website form marks these fields and shows its own message: names, not a sentence
        missing = [name for name in ("business_name", "contact_name", "email") if not values.get(name)]
        if values.get("shop_count") is not None and values["shop_count"] < 0:
            missing.append("shop_count")
        if missing:
            raise ValidationError(missing)
        return values

    def action_mark_contacted(self):
        self.write({"state": "contacted"})

    def action_mark_done(self):
        self.write({"state": "done"})
