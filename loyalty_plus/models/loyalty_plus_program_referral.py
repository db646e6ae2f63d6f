from odoo import fields, models


class LoyaltyPlusProgram(models.Model):
    """The program's referral bonuses: what the member who invites and the friend who joins get
    when the friend's first qualifying purchase is paid."""

    _inherit = "loyalty_plus.program"  # pylint: disable=consider-merging-classes-inherited

    referral_bonus_points = fields.Integer(
        string="Referrer bonus points",
        help="Points the member who invited gets when the friend's first purchase is paid",
    )
    referral_bonus_stamps = fields.Integer(
        string="Referrer bonus stamps",
        help="Stamps the member who invited gets when the friend's first purchase is paid",
    )
    referred_bonus_points = fields.Integer(
        string="New member bonus points", help="Points the invited friend gets with their first purchase"
    )
    referred_bonus_stamps = fields.Integer(
        string="New member bonus stamps", help="Stamps the invited friend gets with their first purchase"
    )
    referral_weekly_flag = fields.Integer(
        string="Referrals per week before review",
        default=5,
        help="A card that invites more new members than this within 7 days has its further referrals flagged: "
        "their bonuses wait until a manager approves them. 0: never flagged",
    )

    _referral_bonuses_positive = models.Constraint(
        "CHECK (referral_bonus_points >= 0 AND referral_bonus_stamps >= 0 AND referred_bonus_points >= 0 "
        "AND referred_bonus_stamps >= 0 AND referral_weekly_flag >= 0)",
        "Referral bonuses and the weekly review threshold cannot be negative.",
    )

    def _offers_referral_bonus(self):
        """Whether inviting a friend earns anything in this program (members are shown their link then)."""
        self.ensure_one()
        program = self.sudo()
        return bool(
            (program.has_points and (program.referral_bonus_points or program.referred_bonus_points))
            or (program.has_stamps and (program.referral_bonus_stamps or program.referred_bonus_stamps))
        )

    def _get_referral_offer(self):
        """The referral offer in a sentence, in the environment's language (False: none)."""
        self.ensure_one()
        program = self.sudo()
        referrer = program._format_referral_bonus(program.referral_bonus_points, program.referral_bonus_stamps)
        referred = program._format_referral_bonus(program.referred_bonus_points, program.referred_bonus_stamps)
        if referrer and referred:
            return self.env._(
                "When a friend joins with your link and makes a first purchase, you get %(referrer)s and your friend "
                "gets %(referred)s.",
                referrer=referrer,
                referred=referred,
            )
        if referrer:
            return self.env._(
                "When a friend joins with your link and makes a first purchase, you get %(referrer)s.",
                referrer=referrer,
            )
        if referred:
            return self.env._(
                "When a friend joins with your link, they get %(referred)s with their first purchase.",
                referred=referred,
            )
        return False

    def _format_referral_bonus(self, points, stamps):
        """A bonus as people say it ("20 points", "1 stamp", "20 points and 1 stamp"); "" for none."""
        self.ensure_one()
        parts = []
        if self.has_points and points:
            parts.append(self.env._("1 point") if points == 1 else self.env._("%(points)s points", points=points))
        if self.has_stamps and stamps:
            parts.append(self.env._("1 stamp") if stamps == 1 else self.env._("%(stamps)s stamps", stamps=stamps))
        if len(parts) == 2:
            return self.env._("%(points)s and %(stamps)s", points=parts[0], stamps=parts[1])
        return parts[0] if parts else ""
