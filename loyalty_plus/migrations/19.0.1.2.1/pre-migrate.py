"""The welcome email shows the points rate in the customer's notation ("0,5" in French) from the
card's mail values. Its template is ``noupdate``: the expression is replaced in place, in every
language, so that a merchant's own wording of the email is kept."""

OLD = "t-out=\"'%g' % object.program_id.points_per_euro\""
NEW = "t-out=\"mail_values['points_rate']\""


def migrate(cr, version):
    cr.execute(
        """UPDATE mail_template template
              SET body_html = (SELECT jsonb_object_agg(lang, replace(body, %s, %s))
                                 FROM jsonb_each_text(template.body_html) AS translation(lang, body))
             FROM ir_model_data xmlid
            WHERE xmlid.module = 'loyalty_plus' AND xmlid.name = 'mail_template_enrollment'
              AND xmlid.model = 'mail.template' AND xmlid.res_id = template.id
              AND template.body_html::text LIKE %s""",
        [OLD, NEW, "%points_per_euro%"],
    )
