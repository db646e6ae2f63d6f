import re
from pathlib import Path

from odoo.http import root
from odoo.modules.loading import load_demo
from odoo.modules.module_graph import ModuleGraph
from odoo.tests import HttpCase, tagged

from .common import CSRF_RE

README = Path(__file__).resolve().parents[2] / "README.md"
PROGRAMS_URL = "/odoo/action-loyalty_plus.loyalty_plus_program_action"


@tagged("post_install", "-at_install")
class TestDemoLogins(HttpCase):
    """Each login the README gives does its role's work in the demo: our addons' demo data are
    loaded by the function ``--with-demo`` loads them with (the same files and generators, in the
    modules' order), then each login signs in with the README's password and opens its main screen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        installed = cls.env["ir.module.module"].search([("state", "=", "installed")]).mapped("name")
        graph = ModuleGraph(cls.env.cr, mode="load")
        graph.extend(installed)
        for package in graph:
            if package.name.startswith("loyalty_plus"):
                # load_demo logs and swallows a failure, as an install does: the demo must load
                assert load_demo(cls.env, package, {}, "init"), f"the demo data of {package.name} failed to load"
        cls.logins = cls._readme_logins()

    @classmethod
    def _readme_logins(cls):
        """{login: password} of the README's table of demo logins."""
        text = README.read_text(encoding="utf-8")
        section = text.split("## Demo data, logins and PINs", 1)[1].split("\n## ", 1)[0]
        return dict(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", section, re.MULTILINE))

    def _sign_in(self, login):
        """Sign in through the login form with the README's password; the session id."""
        self.assertIn(login, self.logins, f"{login} is not in the README's table of demo logins")
        self.authenticate(None, None)
        page = self.url_open("/web/login")
        response = self.url_open(
            "/web/login",
            data={"login": login, "password": self.logins[login], "csrf_token": CSRF_RE.search(page.text).group(1)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, f"{login} cannot sign in with the README's password")
        session_id = self.opener.cookies["session_id"]
        user = self.env["res.users"].search([("login", "=", login)])
        self.assertEqual(root.session_store.get(session_id).uid, user.id)
        return session_id

    def _open(self, login, url, tour, **cookies):
        cookies["session_id"] = self._sign_in(login)
        self.start_tour(url, tour, cookies=cookies, timeout=180)

    def test_readme_lists_the_demo_logins(self):
        self.assertEqual(
            set(self.logins),
            {"admin", "bakery_manager", "cafe_manager", "esch_cashier", "camille.moreau@example.com"},
        )

    def test_admin_backend(self):
        # both merchants selected in the company switcher
        merchants = self.env.ref("loyalty_plus.demo_company_bakery") | self.env.ref("loyalty_plus.demo_company_cafe")
        self._open("admin", PROGRAMS_URL, "loyalty_plus_demo_admin_backend", cids="-".join(map(str, merchants.ids)))

    def test_bakery_manager_program_settings_and_tills(self):
        self._open("bakery_manager", PROGRAMS_URL, "loyalty_plus_demo_manager_program")
        manager = self.env.ref("loyalty_plus.demo_user_bakery_manager")
        bakery = self.env.ref("loyalty_plus.demo_company_bakery")
        shops = bakery | self.env.ref("loyalty_plus.demo_company_bakery_esch")
        shops |= self.env.ref("loyalty_plus.demo_company_bakery_differdange")
        # the merchant's tills, and only those: it manages them
        configs = self.env["pos.config"].with_user(manager).with_context(allowed_company_ids=shops.ids).search([])
        self.assertEqual(configs.company_id, shops)
        self.assertTrue(manager.has_group("point_of_sale.group_pos_manager"))
        # the merchant's settings: saved by its manager
        settings = self.env["loyalty_plus.merchant.settings"].with_user(manager).with_company(bakery).create({})
        self.assertEqual(settings.company_id, bakery)
        settings.pin_max_attempts = 7
        settings.action_save()
        self.assertEqual(bakery.loyalty_plus_pin_max_attempts, 7)

    def test_cafe_manager_program_and_till(self):
        self._open("cafe_manager", PROGRAMS_URL, "loyalty_plus_demo_cafe_program")
        manager = self.env.ref("loyalty_plus.demo_user_cafe_manager")
        cafe = self.env.ref("loyalty_plus.demo_company_cafe")
        till = self.env["pos.config"].with_user(manager).search([])
        self.assertEqual(till, self.env.ref("loyalty_plus_pos.pos_config_demo_cafe"))
        self.assertEqual(till.company_id, cafe)
        self.assertTrue(manager.has_group("point_of_sale.group_pos_manager"))

    def test_esch_cashier_opens_the_till_and_sells(self):
        till = self.env.ref("loyalty_plus_pos.pos_config_demo_bakery_esch")
        cashier = self.env.ref("loyalty_plus.demo_user_esch_cashier")
        self.assertEqual(self.env["pos.config"].with_user(cashier).search([]), till, "the cashier's only till")
        self._open("esch_cashier", f"/pos/ui?config_id={till.id}", "loyalty_plus_demo_esch_till")
        session = till.current_session_id
        self.assertEqual(session.state, "opened")
        self.assertEqual(session.user_id, cashier)

    def test_customer_portal(self):
        self._open("camille.moreau@example.com", "/my/loyalty", "loyalty_plus_demo_customer_portal")
