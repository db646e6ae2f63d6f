from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

TRACE_KEEP_DAYS = 30


class LoyaltyPlusMailTrace(models.Model):
    """What became of one email of a Loyalty+ template. Sent emails are deleted with their message
    (the templates auto-delete them), so the health checks count sends and bounces here, like
    ``mailing.trace`` does for mass mailings: bounces are matched by Message-Id."""

    _name = "loyalty_plus.mail.trace"
    _description = "Loyalty+ email trace"
    _order = "id desc"
    _rec_name = "message_id"

    template_id = fields.Many2one("mail.template", readonly=True, index=True, ondelete="set null")
    company_id = fields.Many2one("res.company", string="Merchant", readonly=True, index=True, ondelete="cascade")
    mail_mail_id_int = fields.Integer(string="Email ID", readonly=True, index=True)
    message_id = fields.Char(string="Message-Id", readonly=True, index="btree_not_null")
    state = fields.Selection(
        [
            ("outgoing", "Outgoing"),
            ("sent", "Sent"),
            ("error", "Failed"),
            ("bounce", "Bounced"),
            ("cancel", "Cancelled"),
        ],
        required=True,
        default="outgoing",
        readonly=True,
    )
    failure_type = fields.Char(readonly=True)
    date = fields.Datetime(
        required=True,
        default=fields.Datetime.now,
        readonly=True,
        help="When the email was queued, then when it was sent, failed or bounced",
    )

    _company_date_idx = models.Index("(company_id, date)")

    @api.model
    def _create_for_mails(self, template, mails_sudo):
        """Trace the emails ``mails_sudo`` just made from ``template``, under the merchant of the
        record each was rendered for."""
        if not mails_sudo:
            return self.browse()
        companies = {}
        for model in set(mails_sudo.mapped("model")):
            if not model or "company_id" not in self.env[model]._fields:
                continue
            res_ids = mails_sudo.filtered(lambda mail, model=model: mail.model == model).mapped("res_id")
            for record in self.env[model].sudo().browse(res_ids):
                companies[model, record.id] = record.company_id.root_id.id
        return self.sudo().create(
            [
                {
                    "template_id": template.id,
                    "company_id": companies.get((mail.model, mail.res_id)) or False,
                    "mail_mail_id_int": mail.id,
                    "message_id": mail.message_id,
                }
                for mail in mails_sudo
            ]
        )

    @api.model
    def _set_outcome(self, mail_ids, failure_type=None):
        """The emails ``mail_ids`` left the queue: sent, or failed with ``failure_type``."""
        if not mail_ids:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_mail_trace SET state = %s, failure_type = %s, date = %s
                    WHERE mail_mail_id_int = ANY(%s) AND state = 'outgoing'""",
                "error" if failure_type else "sent",
                failure_type or None,
                fields.Datetime.now(),
                list(mail_ids),
            )
        )
        self.invalidate_model(["state", "failure_type"])

    @api.model
    def _set_bounced(self, message_ids):
        if not message_ids:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_mail_trace SET state = 'bounce', failure_type = 'mail_bounce', date = %s
                    WHERE message_id = ANY(%s)""",
                fields.Datetime.now(),
                list(message_ids),
            )
        )
        self.invalidate_model(["state", "failure_type"])

    @api.autovacuum
    def _gc_traces(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM loyalty_plus_mail_trace WHERE date < %s",
                fields.Datetime.now() - timedelta(days=TRACE_KEEP_DAYS),
            )
        )
