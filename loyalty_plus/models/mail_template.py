from odoo import api, models, tools


class MailTemplate(models.Model):
    _inherit = "mail.template"

    @api.model
    @tools.ormcache()
    def _loyalty_plus_template_ids(self):
        """The email templates of Loyalty+'s addons."""
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search_fetch([("model", "=", "mail.template"), ("module", "=like", "loyalty_plus%")], ["res_id"])
        )
        return frozenset(data.mapped("res_id"))

    def send_mail_batch(
        self, res_ids, force_send=False, raise_exception=False, email_values=None, email_layout_xmlid=False
    ):
        # traced before a forced send, which may delete the emails it sends
        if self.id not in self._loyalty_plus_template_ids():
            return super().send_mail_batch(
                res_ids,
                force_send=force_send,
                raise_exception=raise_exception,
                email_values=email_values,
                email_layout_xmlid=email_layout_xmlid,
            )
        mails_sudo = super().send_mail_batch(
            res_ids,
            force_send=False,
            raise_exception=raise_exception,
            email_values=email_values,
            email_layout_xmlid=email_layout_xmlid,
        )
        self.env["loyalty_plus.mail.trace"]._create_for_mails(self, mails_sudo)
        if force_send:
            mails_sudo.send(raise_exception=raise_exception)
        return mails_sudo
