from odoo import fields
from odoo.tests import HttpCase, tagged

from .common_reports import ReportLedgersCase

ROOT_MENU = "loyalty_plus.loyalty_plus_menu_root"


@tagged("post_install", "-at_install")
class TestClickEverywhere(ReportLedgersCase, HttpCase):
    """Odoo's clickbot opens every Loyalty+ menu, each view type of its action and each filter, as
    each role: any client error (a bad view, an access error on a visible menu) fails the test."""

    def setUp(self):
        super().setUp()
        self.build_bakery()
        campaign = self.env["loyalty_plus.campaign"].create(
            {"program_id": self.program.id, "name": "Double points", "campaign_type": "bonus", "bonus_points": 50}
        )
        friend = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        self.env["loyalty_plus.referral"].create(
            {"referrer_card_id": self.card.id, "referred_card_id": friend.id, "program_id": self.program.id}
        )
        earned = self.card._apply_ledger(
            {"transaction_type": "points_earned", "points_delta": 200, "amount": 20, "campaign_id": campaign.id}
        )
        self.env["loyalty_plus.redemption"]._issue(earned, "Free croissant", self.reward)
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        self.env["loyalty_plus.rate_limit.refusal"].create(
            {"company_id": self.bakery.id, "entry_point": "stamp", "window_start": now, "count": 120}
        )
        check = self.env["loyalty_plus.health.check"].create(
            {
                "key": "rate_limit",
                "name": "Rate limits",
                "category": "rate_limit",
                "company_id": self.bakery.id,
                "state": "amber",
                "message": "120 refusals in one minute",
            }
        )
        self.env["loyalty_plus.health.incident"].create(
            {
                "check_id": check.id,
                "name": "Rate limits (Test Bakery)",
                "company_id": self.bakery.id,
                "severity": "amber",
                "start_date": now,
                "message": "120 refusals in one minute",
            }
        )
        for user in (self.manager, self.cashier):
            user.password = user.login  # browser_js logs in with the login as password
        self.env.ref("base.user_admin").tour_enabled = False

    def click_everywhere(self, login):
        self.browser_js(
            "/odoo",
            "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader')"
            f".startClickEverywhere('{ROOT_MENU}');",
            "odoo.isReady === true",
            login=login,
            timeout=300,
            success_signal="clickbot test succeeded",
        )

    def test_click_everywhere_as_admin(self):
        self.click_everywhere("admin")

    def test_click_everywhere_as_manager(self):
        """A merchant's manager: one merchant's companies, the Loyalty+ manager group."""
        self.click_everywhere(self.manager.login)

    def test_click_everywhere_as_cashier(self):
        """A cashier sees the Operations menus (cards, ledger, redemptions, referrals)."""
        self.click_everywhere(self.cashier.login)
