import json
from datetime import date, timedelta

from odoo.tests import HttpCase, tagged
from odoo.tools import file_open

from odoo.addons.loyalty_plus.tests.common_reports import ReportLedgersCase

DASHBOARD_FILE = "loyalty_plus_dashboard/data/files/loyalty_plus_dashboard.json"


def dashboard_read_groups(today=None):
    """What the dashboard asks the server: per pivot and chart, (model, domain, groupby, aggregates);
    with ``today``, under the default period filter (the last 90 days) as the dashboard opens."""
    with file_open(DASHBOARD_FILE) as f:
        data = json.load(f)
    period = next(f for f in data["globalFilters"] if f["type"] == "date")
    assert period["defaultValue"] == "last_90_days"

    def period_domain(matching):
        field = matching.get(period["id"], {}).get("chain")
        return [(field, ">=", (today - timedelta(days=89)).isoformat())] if field and today else []

    calls = []
    for pivot in data["pivots"].values():
        aggregates = [
            "__count" if m["fieldName"] == "__count" else f"{m['fieldName']}:{m.get('aggregator') or 'sum'}"
            for m in pivot["measures"]
        ]
        groupby = [row["fieldName"] for row in pivot["rows"]] + [col["fieldName"] for col in pivot["columns"]]
        calls.append((pivot["model"], pivot["domain"] + period_domain(pivot["fieldMatching"]), groupby, aggregates))
    for sheet in data["sheets"]:
        for figure in sheet["figures"]:
            meta = figure["data"].get("metaData")
            if meta:
                calls.append(
                    (
                        meta["resModel"],
                        figure["data"]["searchParams"]["domain"] + period_domain(figure["data"]["fieldMatching"]),
                        meta["groupBy"],
                        [f"{meta['measure']}:" + ("avg" if meta["measure"] == "retention_rate" else "sum")],
                    )
                )
    return calls


@tagged("post_install", "-at_install")
class TestDashboardTour(ReportLedgersCase, HttpCase):
    """The merchant's manager opens the Loyalty+ dashboard, then a report in pivot and graph."""

    def test_dashboard_data_as_each_manager(self):
        """Every pivot and chart of the dashboard reads as a merchant's manager, and only their rows."""
        self.build_bakery()
        self.build_cafe_members()
        self.refresh()
        for user, merchant in [(self.manager, self.bakery), (self.cafe_manager, self.cafe)]:
            env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
            for model, domain, groupby, aggregates in dashboard_read_groups(date.today()):
                env[model].formatted_read_group(domain, groupby, aggregates)
                companies = {row["company_id"][0] for row in env[model].search_read(domain, ["company_id"])}
                self.assertLessEqual(companies, {merchant.id}, model)
        env = self.env(user=self.manager, context={"allowed_company_ids": self.manager.company_ids.ids})
        liability = env["loyalty_plus.report.liability"].formatted_read_group([], [], ["liability:sum"])[0]
        self.assertEqual(round(liability["liability:sum"], 2), 3.44)

    def test_dashboard_then_report_tour(self):
        self.build_bakery()
        self.build_cafe_members()
        self.refresh()
        self.manager.password = "lp_manager"  # start_tour logs in with the login as password
        self.start_tour("/odoo/dashboards", "loyalty_plus_dashboard_open", login="lp_manager")
        self.start_tour(
            "/odoo/action-loyalty_plus.loyalty_plus_report_liability_action",
            "loyalty_plus_report_pivot_graph",
            login="lp_manager",
        )

    def test_dashboard_follows_the_plan(self):
        """A merchant whose plan has no analytics is told which plan has them; its data stays."""
        dashboard = self.env.ref("loyalty_plus_dashboard.spreadsheet_dashboard_loyalty_plus")
        as_manager = dashboard.with_user(self.manager).with_company(self.bakery)
        self.assertIn("snapshot", json.loads(as_manager._get_serialized_readonly_dashboard()))
        self.bakery.loyalty_plus_plan_id = self.env.ref("loyalty_plus.plan_starter")
        refusal = self.refusal_of(as_manager._get_serialized_readonly_dashboard)
        self.assertEqual(refusal.code, "plan_limit")
        self.assertIn("Growth", str(refusal))
