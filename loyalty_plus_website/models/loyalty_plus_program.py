from lxml import etree, html

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount
from odoo.tools.translate import xml_translate

DAYS_PER_MONTH = 365.25 / 12


class LoyaltyPlusProgram(models.Model):
    _inherit = "loyalty_plus.program"

    terms_page_id = fields.Many2one(
        "website.page",
        string="Terms page",
        domain="['|', ('website_id', '=', False), ('website_id.company_id', '=', company_id)]",
        help="The page of the merchant's website holding the program terms; "
        "without it the program's terms text is shown.",
    )
    privacy_page_id = fields.Many2one(
        "website.page",
        string="Privacy page",
        domain="['|', ('website_id', '=', False), ('website_id.company_id', '=', company_id)]",
        help="The page of the merchant's website holding the privacy policy; "
        "without it the privacy URL, then the default privacy page, is linked.",
    )

    def _compute_terms_url(self):
        for program in self:
            program.terms_url = (
                program.company_id.loyalty_plus_slug or program.sudo().terms_page_id.is_published
            ) and f"{program.get_base_url()}{program._get_terms_url()}"

    def _get_terms_url(self):
        self.ensure_one()
        program = self.sudo()
        if program.terms_page_id.is_published:
            return program.terms_page_id.url
        return f"/loyalty/{program.company_id.loyalty_plus_slug}/terms"

    def _get_privacy_url(self):
        self.ensure_one()
        program = self.sudo()
        if program.privacy_page_id.is_published:
            return program.privacy_page_id.url
        return program.privacy_url or "/loyalty-privacy"

    def _get_terms_expiry_label(self):
        """How long points last without a purchase, as people say it: "12 months", "90 days"."""
        self.ensure_one()
        days = self.points_expiration_days
        months = round(days / DAYS_PER_MONTH)
        if months and abs(months * DAYS_PER_MONTH - days) <= 2:
            return self.env._("1 month") if months == 1 else self.env._("%(months)s months", months=months)
        return self.env._("1 day") if days == 1 else self.env._("%(days)s days", days=days)

    def _get_terms_facts(self):
        """What the program's terms say, from its settings, in the environment's language."""
        self.ensure_one()
        program = self.sudo()
        has_points = program.has_points
        return {
            "card_name": program.card_name or program.name,
            "merchant": program.company_id.name,
            "cross_location": program.company_id.loyalty_plus_cross_location,
            "welcome_bonus": has_points and program.welcome_bonus_points,
            "stamps_target": program.has_stamps and program.stamps_target,
            "stamp_reward": program.stamps_reward_description,
            "max_stamps_per_day": program.max_stamps_per_day,
            "points_rate": has_points and self._get_points_rate_label(),
            "minimum_purchase": program.minimum_purchase
            and format_amount(self.env, program.minimum_purchase, program.currency_id),
            "minimum_redemption": program.minimum_redemption_points,
            "birthday_bonus": has_points and program.birthday_bonus_points,
            "expiry": has_points and program.points_expiration_days and program._get_terms_expiry_label(),
            "tiers": has_points
            and ", ".join(
                self.env._("%(tier)s from 1 point", tier=tier.name)
                if tier.threshold_points == 1
                else self.env._("%(tier)s from %(points)s points", tier=tier.name, points=tier.threshold_points)
                for tier in program.tier_ids.sorted("threshold_points")
            ),
            "privacy_url": program._get_privacy_url(),
        }

    def _render_terms_content(self, lang):
        """The terms section made of the program's facts, in ``lang``, as HTML."""
        self.ensure_one()
        program = self.with_context(lang=lang)
        return str(
            self.env["ir.qweb"]
            .with_context(lang=lang)
            ._render("loyalty_plus_website.program_terms_content", {"program": program})
        ).strip()

    def action_generate_terms_page(self):
        """Make the program's terms page of the merchant's website from the program's facts, in every
        language of the website; the merchant then edits it in the website builder. Generating
        again replaces the page's content with the current facts."""
        self.ensure_one()
        self.check_access("write")
        program = self.sudo()
        merchant = program.company_id
        website = self.env["website"].sudo().search([("company_id", "=", merchant.id)], limit=1)
        if not website:
            raise UserError(self.env._("%(merchant)s has no website to publish the terms on.", merchant=merchant.name))
        # the page's own text is English (the view's source), the website's languages its translations
        source_lang = "en_US"
        content = program._render_terms_content(source_lang)
        page = program.terms_page_id
        if not page:
            name = self.env._("Terms of %(card)s", card=program.card_name or program.name)
            created = website.with_context(website_id=website.id).new_page(
                name=name, sections_arch=content, page_values={"is_published": True}
            )
            page = self.env["website.page"].sudo().browse(created["page_id"])
            program.terms_page_id = page
        else:
            tree = etree.fromstring(page.view_id.with_context(lang=None).arch)
            wrap = tree.xpath('//div[@id="wrap"]')[0]
            for child in list(wrap):
                wrap.remove(child)
            wrap.append(html.fromstring(content))
            page.view_id.with_context(lang=None).write({"arch": etree.tostring(tree, encoding="unicode")})
        source_terms = self._get_xml_terms(content)
        translations = {}
        for lang in website.language_ids.mapped("code"):
            if lang == source_lang:
                continue
            terms = self._get_xml_terms(program._render_terms_content(lang))
            if len(terms) == len(source_terms):  # one template, one structure: the terms pair up
                translations[lang] = dict(zip(source_terms, terms, strict=True))
        if translations:
            page.view_id.update_field_translations("arch_db", translations)
        return {"type": "ir.actions.act_url", "url": page.url, "target": "self"}

    def _get_xml_terms(self, html):
        terms = []
        xml_translate(lambda term: terms.append(term) or term, html)
        return terms
