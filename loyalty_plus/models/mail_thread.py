from odoo import api, models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        # the email itself is gone (auto-deleted once sent): its trace is found by Message-Id
        self.env["loyalty_plus.mail.trace"].sudo()._set_bounced(message_dict.get("bounced_msg_ids") or [])
        return super()._routing_handle_bounce(email_message, message_dict)
