import json

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import HttpCase, tagged
from odoo.tools.safe_eval import safe_eval

from .common_reports import ReportLedgersCase

ROOT_MENU = "loyalty_plus.loyalty_plus_menu_root"
# opens each [model, id] of __FORMS__ in a form view, one after the other; any error fails the test
OPEN_FORMS_JS = """(async () => {
    const action = odoo.__WOWL_DEBUG__.root.env.services.action;
    for (const [model, id] of __FORMS__) {
        await action.doAction({
            type: "ir.actions.act_window", res_model: model, res_id: id, views: [[false, "form"]],
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (document.querySelector(".o_error_dialog") || !document.querySelector(".o_form_view")) {
            console.error(`the form of ${model} ${id} did not open`);
            return;
        }
        console.log(`opened ${model} ${id}`);
    }
    console.log("test successful");
})();"""
# the menus (with an action) each role finds in the app; those of the other addons when installed
CASHIER_MENUS = {
    "loyalty_plus.loyalty_plus_card_menu",
    "loyalty_plus.loyalty_plus_transaction_menu",
    "loyalty_plus.loyalty_plus_redemption_menu",
    "loyalty_plus.loyalty_plus_referral_menu",
}
MANAGER_MENUS = CASHIER_MENUS | {
    "loyalty_plus.loyalty_plus_report_overview_menu",
    "loyalty_plus.loyalty_plus_report_cohort_menu",
    "loyalty_plus.loyalty_plus_report_churn_menu",
    "loyalty_plus.loyalty_plus_report_liability_menu",
    "loyalty_plus.loyalty_plus_report_fraud_menu",
    "loyalty_plus_pos.loyalty_plus_report_revenue_menu",
    "loyalty_plus.loyalty_plus_health_check_menu",
    "loyalty_plus.loyalty_plus_health_incident_menu",
    "loyalty_plus.loyalty_plus_rate_limit_refusal_menu",
    "loyalty_plus.loyalty_plus_merchant_settings_menu",
    "loyalty_plus.loyalty_plus_program_menu",
    "loyalty_plus.loyalty_plus_campaign_menu",
    "loyalty_plus.loyalty_plus_reward_menu",
    "loyalty_plus.loyalty_plus_tier_menu",
    "loyalty_plus.loyalty_plus_staff_pin_menu",
    "loyalty_plus.loyalty_plus_integration_menu",
    "loyalty_plus.loyalty_plus_webhook_delivery_menu",
}
ADMIN_MENUS = MANAGER_MENUS | {
    "loyalty_plus.loyalty_plus_cron_run_menu",
    "loyalty_plus.loyalty_plus_config_settings_menu",
    "loyalty_plus.loyalty_plus_plan_menu",
    "loyalty_plus_wallet.loyalty_plus_wallet_pass_menu",
    "loyalty_plus_website.loyalty_plus_merchant_request_menu",
}


class LoyaltyPlusScreensCase(ReportLedgersCase, HttpCase):
    """A merchant with some of everything its screens show: cards, ledger rows, a campaign, a
    referral, a redemption code, a rate-limit refusal, a health check and its incident."""

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
        integration = self.env["loyalty_plus.integration"].create(
            {"name": "Webshop", "company_id": self.bakery.id, "shop_ids": [Command.set(self.bakery.ids)]}
        )
        integration._generate_api_key()
        self.integration = integration
        self.env["loyalty_plus.webhook_delivery"].create(
            {
                "integration_id": integration.id,
                "event": "transaction.created",
                "url": "https://shop.example.com/hook",
                "payload": {"card": self.card.card_number},
                "state": "failed",
            }
        )
        # the screens of the other addons, when installed
        if "loyalty_plus.wallet_pass" in self.env:
            self.env["loyalty_plus.wallet_pass"].create({"card_id": self.card.id, "serial_number": "H8-PASS-1"})
        if "loyalty_plus.merchant_request" in self.env:
            self.env["loyalty_plus.merchant_request"].create(
                {"business_name": "Test Florist", "contact_name": "Flora", "email": "flora@example.com"}
            )
        self.refresh()
        for user in (self.manager, self.cashier):
            user.password = user.login  # browser_js logs in with the login as password
        admin = self.env.ref("base.user_admin")
        admin.tour_enabled = False
        admin.password = "admin"
        # the administrator works in every merchant: the platform's screens show them all
        admin.company_ids |= self.bakery | self.branch_esch | self.branch_diff | self.cafe

    def all_companies_cookie(self, login):
        """The web client's session working in all the user's companies, as the server-side checks."""
        user = self.env["res.users"].search([("login", "=", login)])
        return {"cids": "-".join(str(cid) for cid in (user.company_id | user.company_ids).ids)}


@tagged("post_install", "-at_install")
class TestClickEverywhere(LoyaltyPlusScreensCase):
    """Odoo's clickbot opens every Loyalty+ menu, each view type of its action and each filter, as
    each role: any client error (a bad view, an access error on a visible menu) fails the test."""

    def click_everywhere(self, login):
        self.browser_js(
            "/odoo",
            f"odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader').startClickEverywhere('{ROOT_MENU}');",
            "odoo.isReady === true",
            login=login,
            cookies=self.all_companies_cookie(login),
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


@tagged("post_install", "-at_install")
class TestEveryGroupByAndForm(LoyaltyPlusScreensCase):
    """What the clickbot does not click: each group-by of each search view and the form of a record
    of each list, read as the web client reads them (the fields of the view), as each role."""

    def spec_of(self, node, model):
        """The ``web_read`` specification of the fields of ``node`` (not those of its subviews)."""
        spec = {}
        for child in node:
            if child.tag != "field":
                spec.update(self.spec_of(child, model))
                continue
            field = self.env[model]._fields[child.get("name")]
            if not field.relational:
                spec[field.name] = {}
                continue
            sub_spec = {"display_name": {}}
            for subview in child:
                sub_spec.update(self.spec_of(subview, field.comodel_name))
            spec[field.name] = {"fields": sub_spec}
        return spec

    def visible_menus(self, env):
        """The menus of the app with an action that ``env``'s user sees, by xmlid."""
        root = self.env.ref(ROOT_MENU).id
        return {
            menu["xmlid"]: menu
            for menu in env["ir.ui.menu"].load_menus(False).values()
            if isinstance(menu, dict) and menu.get("app_id") == root and menu["id"] != root and menu.get("action_id")
        }

    def open_menu_actions(self, user, expected_menus):
        """(menu, model, domain, views) of each window the menus ``user`` sees open, once checked
        that ``user`` sees ``expected_menus`` (those installed): a menu lost to a missing access
        right is hidden by Odoo, not an error."""
        env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
        menus = self.visible_menus(env)
        self.assertEqual(set(menus), {xmlid for xmlid in expected_menus if self.env.ref(xmlid, False)})
        for menu in menus.values():
            action = env[menu["action_model"]].browse(menu["action_id"])
            if action._name == "ir.actions.server":
                action = action.run()
            elif action._name == "ir.actions.act_window":
                action = action.sudo()._get_action_dict()
            else:
                continue
            if action.get("type") != "ir.actions.act_window" or action.get("target") in ("new", "inline"):
                continue
            eval_context = env["ir.actions.actions"]._get_eval_context()
            context = action.get("context") or {}
            if isinstance(context, str):
                context = safe_eval(context, {**eval_context, "context": env.context})
            domain = action.get("domain") or []
            if isinstance(domain, str):
                domain = safe_eval(domain, {**eval_context, "context": env.context})
            views = [(view_id or False, view_type) for view_id, view_type in action["views"]]
            views.append((action.get("search_view_id") and action["search_view_id"][0], "search"))
            if "form" not in {view_type for _view_id, view_type in views}:
                views.append((False, "form"))
            yield menu["xmlid"], env[action["res_model"]].with_context(**context), domain, views

    def assertOpensEverywhere(self, user, expected_menus):
        forms = {}
        for xmlid, model, domain, views in self.open_menu_actions(user, expected_menus):
            with self.subTest(user=user.login, menu=xmlid):
                arches = {
                    view_type: etree.fromstring(view["arch"])
                    for view_type, view in model.get_views(views, {"load_filters": True})["views"].items()
                }
                for node in arches["search"].iter("filter"):
                    group_by = safe_eval(node.get("context") or "{}", {"context_today": fields.Date.today}).get(
                        "group_by"
                    )
                    for groupby in [group_by] if isinstance(group_by, str) else group_by or []:
                        name = groupby.split(":")[0]
                        if model._fields[name].type in ("date", "datetime") and ":" not in groupby:
                            groupby += ":month"
                        model.web_read_group(domain, [groupby], ["__count"])
                records = model.search(domain, limit=3)
                for view_type in ("list", "kanban"):
                    if view_type in arches:
                        model.web_search_read(domain, self.spec_of(arches[view_type], model._name), limit=80)
                if records and "form" in arches:
                    records.web_read(self.spec_of(arches["form"], model._name))
                    forms.setdefault(model._name, records[0].id)
        self.open_forms_in_browser(user, forms)

    def open_forms_in_browser(self, user, forms):
        """Open each form in the web client: its widgets run (the clickbot opens no record)."""
        self.browser_js(
            "/odoo",
            OPEN_FORMS_JS.replace("__FORMS__", json.dumps(list(forms.items()))),
            "odoo.isReady === true",
            login=user.login,
            cookies=self.all_companies_cookie(user.login),
            timeout=120,
        )

    def test_open_everything_as_admin(self):
        self.assertOpensEverywhere(self.env.ref("base.user_admin"), ADMIN_MENUS)

    def test_open_everything_as_manager(self):
        self.assertOpensEverywhere(self.manager, MANAGER_MENUS)

    def test_open_everything_as_cashier(self):
        self.assertOpensEverywhere(self.cashier, CASHIER_MENUS)

    def test_integration_keys_of_own_merchant_only(self):
        """The integration's form lists its keys to its merchant's managers, not to another's."""
        keys = self.integration.user_id.api_key_ids
        self.assertTrue(keys)
        self.assertEqual(self.as_user(keys, self.manager).read(["name"])[0]["name"], keys.name)
        with self.assertRaises(AccessError):
            self.as_user(keys, self.cafe_manager).read(["name"])
        with self.assertRaises(AccessError):
            self.as_user(keys, self.manager).unlink()

    def test_open_everything_as_cafe_manager(self):
        """The manager of a merchant without branches whose program counts stamps only."""
        self.build_cafe_members()
        self.refresh()
        self.cafe_manager.password = self.cafe_manager.login
        self.assertOpensEverywhere(self.cafe_manager, MANAGER_MENUS)
