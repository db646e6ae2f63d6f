from markupsafe import Markup

from odoo import api, fields, models
from odoo.fields import Command

from .loyalty_plus_health_check import SEVERITY


class LoyaltyPlusHealthIncident(models.Model):
    """A health check out of green, from the evaluation that saw it cross its threshold to the one
    that saw it recover. Opening it emails the Loyalty administrators and gives each an activity,
    once; closing it marks the activities done."""

    _name = "loyalty_plus.health.incident"
    _description = "Loyalty+ health incident"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "start_date desc, id desc"

    # an incident outlives its check (a merchant's wallet unconfigured, a job uninstalled): history
    check_id = fields.Many2one("loyalty_plus.health.check", readonly=True, index=True, ondelete="set null")
    name = fields.Char(required=True, readonly=True)
    category = fields.Selection(related="check_id.category")
    company_id = fields.Many2one("res.company", string="Merchant", readonly=True, index=True)
    state = fields.Selection([("open", "Open"), ("closed", "Closed")], required=True, default="open", readonly=True)
    severity = fields.Selection(
        [("amber", "Warning"), ("red", "Critical")], required=True, readonly=True, tracking=True
    )
    start_date = fields.Datetime(string="Started", required=True, readonly=True)
    end_date = fields.Datetime(string="Recovered", readonly=True)
    message = fields.Text(readonly=True)

    @api.model
    def _get_administrators(self):
        return (
            self.env.ref("loyalty_plus.group_loyalty_plus_admin")
            .sudo()
            .all_user_ids.filtered(lambda user: user.active and not user.share)
        )

    @api.model
    def _open(self, check, measure):
        merchant = check.company_id
        name = f"{check.name} ({merchant.name})" if merchant else check.name
        incident = self.sudo().create(
            {
                "check_id": check.id,
                "name": name,
                "company_id": merchant.id,
                "severity": measure["state"],
                "start_date": fields.Datetime.now(),
                "message": measure.get("message"),
            }
        )
        incident._notify_administrators()
        return incident

    def _notify_administrators(self):
        """One email to the administrators and an activity for each of them."""
        self.ensure_one()
        admins = self._get_administrators()
        if not admins:
            return
        severity = dict(self._fields["severity"]._description_selection(self.env))[self.severity]
        summary = self.env._("%(severity)s: %(check)s", severity=severity, check=self.name)
        for admin in admins:
            self.activity_schedule(
                "loyalty_plus.mail_activity_type_health_incident",
                user_id=admin.id,
                summary=summary,
                note=self.message,
            )
        body = Markup("<p>%s</p><p>%s</p>") % (summary, self.message or "")
        # an email whatever the administrators' notification preferences: monitoring must reach them
        self.env["mail.mail"].sudo().create(
            {
                "subject": self.env._("Loyalty+ health: %(summary)s", summary=summary),
                "body_html": body,
                "recipient_ids": [Command.link(partner.id) for partner in admins.partner_id],
                "model": self._name,
                "res_id": self.id,
                "auto_delete": True,
            }
        )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _follow(self, measure):
        """The check is still out of green: keep the worst severity and the latest figures."""
        self.ensure_one()
        vals = {"message": measure.get("message")}
        if SEVERITY[measure["state"]] > SEVERITY[self.severity]:
            vals["severity"] = measure["state"]
        self.write(vals)

    def _close(self):
        now = fields.Datetime.now()
        for incident in self:
            incident.write({"state": "closed", "end_date": now})
            feedback = incident.env._("Recovered on %(date)s.", date=now)
            incident.activity_ids.action_feedback(feedback=feedback)
            if not incident.activity_ids:
                incident.message_post(body=feedback, subtype_xmlid="mail.mt_note")
