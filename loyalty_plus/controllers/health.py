import json
import re
from datetime import date, datetime

from odoo import fields, http
from odoo.http import request

from ..models.loyalty_plus_health_check import SEVERITY

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRIC_HELP = {
    "health_state": "State of each Loyalty+ health check: 0 green, 1 amber, 2 red",
    "cron_last_success_timestamp_seconds": "Unix time of the job's last complete run (0: never)",
    "cron_hours_since_success": "Hours since the job's last complete run (or its installation)",
    "cron_last_duration_seconds": "Duration of the job's last run",
    "cron_last_processed": "Records the job's last run reported as processed",
    "cron_last_run_failed": "1 when the job's last run failed",
    "cron_active": "1 when the job is active",
    "mail_failure_percent": "Emails of the Loyalty+ templates failed or bounced in the last 24 hours (%)",
    "mail_sent": "Emails of the Loyalty+ templates sent in the last 24 hours",
    "mail_failed": "Emails of the Loyalty+ templates that failed in the last 24 hours",
    "mail_bounced": "Emails of the Loyalty+ templates that bounced in the last 24 hours",
    "mail_emails": "Emails of each Loyalty+ template in the last 24 hours, by outcome",
    "rate_limit_refusals_peak_per_minute": "Rate-limit refusals in the worst minute of one shop (last 15 minutes)",
    "rate_limit_refusals_shop_peak": "Rate-limit refusals in the worst minute of each shop and entry point",
}


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _metric_name(name):
    return "loyalty_plus_" + re.sub(r"[^a-zA-Z0-9_]", "_", name)


class LoyaltyPlusHealth(http.Controller):
    @http.route("/loyalty_plus/health", type="http", auth="bearer", methods=["GET"], readonly=True)
    def health(self, **kwargs):
        """The health checks for outside monitors, measured now: JSON, or Prometheus's text format
        (``?format=prometheus`` or an Accept header asking for text). An administrator's API key
        sees every merchant and the jobs; a merchant manager's key only its merchant's figures."""
        user = request.env.user
        if not user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            return request.make_json_response(
                {
                    "error": {
                        "code": "access_denied",
                        "message": request.env._("Only Loyalty+ managers may read the health checks."),
                    }
                },
                status=403,
            )
        Check = request.env["loyalty_plus.health.check"].sudo()
        is_admin = user.has_group("loyalty_plus.group_loyalty_plus_admin")
        merchants = Check._get_visible_merchants(user)
        measures = Check._get_measures(merchants, platform=is_admin)
        names = {merchant.id: merchant.name for merchant in merchants}
        if self._wants_prometheus(kwargs.get("format")):
            return request.make_response(
                self._render_prometheus(measures, names), headers=[("Content-Type", PROMETHEUS_CONTENT_TYPE)]
            )
        worst = max((measure["state"] for measure in measures), key=SEVERITY.get, default="green")
        checks = []
        for measure in measures:
            check = {name: value for name, value in measure.items() if name != "company_id"}
            check["merchant"] = (
                {"id": measure["company_id"], "name": names.get(measure["company_id"])}
                if measure["company_id"]
                else None
            )
            checks.append(check)
        body = {"status": worst, "generated_at": fields.Datetime.now(), "checks": checks}
        return request.make_response(
            json.dumps(body, default=_json_default), headers=[("Content-Type", "application/json")]
        )

    def _wants_prometheus(self, requested):
        if requested:
            return requested == "prometheus"
        accept = request.httprequest.headers.get("Accept", "")
        return "text/plain" in accept or "openmetrics" in accept

    def _render_prometheus(self, measures, names):
        samples = {}

        def add(name, labels, value):
            samples.setdefault(name, []).append((labels, value))

        for measure in measures:
            labels = {"check": measure["key"], "category": measure["category"]}
            if measure["company_id"]:
                labels["merchant"] = names.get(measure["company_id"], "")
            if measure["category"] == "cron":
                labels["job"] = measure["name"]
            add("health_state", labels, SEVERITY[measure["state"]])
            for name, value in measure.get("metrics", {}).items():
                add(name, labels, value)
            for template, counts in measure.get("per_template", {}).items():
                for outcome, count in counts.items():
                    add("mail_emails", {**labels, "template": template, "outcome": outcome}, count)
            for shop, entry_points in measure.get("per_shop", {}).items():
                for entry_point, count in entry_points.items():
                    add("rate_limit_refusals_shop_peak", {**labels, "shop": shop, "entry_point": entry_point}, count)
        lines = []
        for name, rows in samples.items():
            metric = _metric_name(name)
            if name in METRIC_HELP:
                lines.append(f"# HELP {metric} {METRIC_HELP[name]}")
            lines.append(f"# TYPE {metric} gauge")
            for labels, value in rows:
                text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
                lines.append(f"{metric}{{{text}}} {float(value or 0)!r}")
        return "\n".join(lines) + "\n"
