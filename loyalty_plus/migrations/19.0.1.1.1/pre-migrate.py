"""The card emails became HTML in a layout of the merchant's colours, with the card's QR code and
the link to the customer's account. Their templates are ``noupdate``: the old plain-text ones are
removed here so that the update creates the new ones (with their translations)."""

TEMPLATES = (
    "mail_template_enrollment",
    "mail_template_welcome_bonus",
    "mail_template_points_expiring",
    "mail_template_points_expired",
    "mail_template_reward_ready",
    "mail_template_birthday",
    "mail_template_reengagement",
    "mail_template_tier_changed",
)


def migrate(cr, version):
    cr.execute(
        """WITH xmlids AS (
               DELETE FROM ir_model_data
                WHERE module = 'loyalty_plus' AND model = 'mail.template' AND name IN %s
            RETURNING res_id
           )
           DELETE FROM mail_template WHERE id IN (SELECT res_id FROM xmlids)""",
        [TEMPLATES],
    )
