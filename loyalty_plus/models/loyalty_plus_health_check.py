from datetime import UTC, timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

# Seed 003 §8.4, each overridable in the settings (system parameters ``loyalty_plus.health.<name>``)
THRESHOLDS = {
    "expiry_hours": 26,  # the expiry job not succeeded for this long: red
    "wallet_failure_percent": 5.0,  # wallet updates failing: amber above
    "mail_failure_percent": 1.0,  # emails failed or bounced: amber above
    "credential_days": 30,  # a wallet credential expiring this soon: amber (expired: red)
    "rate_limit_per_minute": 100,  # refusals in one minute for one shop: amber above
}
RATE_WINDOW = 24  # hours of emails and wallet updates a rate is computed on
REFUSAL_LOOKBACK = 15  # minutes of rate-limit refusals looked at
STALE_INTERVALS = 3  # another job is amber when it has not succeeded for this many of its intervals
SEVERITY = {"green": 0, "amber": 1, "red": 2}
INTERVAL_HOURS = {"minutes": 1 / 60, "hours": 1, "days": 24, "weeks": 24 * 7, "months": 24 * 31}
EXPIRY_CRON = "loyalty_plus.ir_cron_expire_points"


class LoyaltyPlusHealthCheck(models.Model):
    """The latest evaluation of one health check: a Loyalty+ job, the emails or the rate limits of a
    merchant, and what the wallet addon adds. The measures (``_get_measures``) read only, so the
    monitoring endpoint can serve them from a replica; ``_evaluate`` stores them and opens and
    closes the incidents that alert the administrators."""

    _name = "loyalty_plus.health.check"
    _description = "Loyalty+ health check"
    _order = "severity desc, category, company_id, name"

    key = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, readonly=True)
    category = fields.Selection(
        [
            ("cron", "Scheduled job"),
            ("wallet_sync", "Wallet updates"),
            ("mail", "Emails"),
            ("rate_limit", "Rate limits"),
            ("credential", "Wallet credentials"),
        ],
        required=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        "res.company", string="Merchant", readonly=True, index=True, ondelete="cascade", help="Empty: the platform"
    )
    state = fields.Selection(
        [("green", "OK"), ("amber", "Warning"), ("red", "Critical")], required=True, default="green", readonly=True
    )
    severity = fields.Integer(compute="_compute_severity", store=True)
    value = fields.Float(readonly=True, digits=(16, 2))
    threshold = fields.Char(readonly=True)
    message = fields.Text(readonly=True)
    evaluated_date = fields.Datetime(string="Evaluated", readonly=True)
    cron_id = fields.Many2one("ir.cron", string="Scheduled action", readonly=True, ondelete="cascade")
    last_run_date = fields.Datetime(string="Last run", readonly=True)
    last_run_status = fields.Selection(
        [("done", "Done"), ("partial", "Partially done"), ("failed", "Failed")], readonly=True
    )
    last_success_date = fields.Datetime(string="Last success", readonly=True)
    last_duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    last_processed = fields.Integer(string="Processed", readonly=True)
    incident_ids = fields.One2many("loyalty_plus.health.incident", "check_id", string="Incidents", readonly=True)
    open_incident_id = fields.Many2one("loyalty_plus.health.incident", string="Open incident", readonly=True)

    _key_company_unique = models.UniqueIndex("(key, COALESCE(company_id, 0))")

    @api.depends("state")
    def _compute_severity(self):
        for check in self:
            check.severity = SEVERITY[check.state]

    def action_evaluate(self):
        """Backend button: measure everything now (the administrators' view, else refused)."""
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_admin"):
            raise AccessError(self.env._("Only Loyalty administrators can evaluate the health checks."))
        self.sudo()._evaluate()
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    # ------------------------------------------------------------------
    # Measures (read only)
    # ------------------------------------------------------------------

    @api.model
    def _get_thresholds(self):
        params = self.env["ir.config_parameter"].sudo()
        thresholds = {}
        for name, default in THRESHOLDS.items():
            try:
                value = type(default)(params.get_param(f"loyalty_plus.health.{name}") or default)
            except ValueError:
                value = default
            thresholds[name] = value if value > 0 else default
        return thresholds

    @api.model
    def _get_merchants(self):
        """The merchants (root companies) running a Loyalty+ program."""
        programs_sudo = self.env["loyalty_plus.program"].sudo().with_context(active_test=False).search([])
        return programs_sudo.company_id.root_id

    @api.model
    def _get_visible_merchants(self, user):
        """The merchants whose figures ``user`` may see: all for a Loyalty administrator, else the
        merchants of the user's companies (a merchant's manager)."""
        merchants = self._get_merchants()
        if user.has_group("loyalty_plus.group_loyalty_plus_admin"):
            return merchants
        return merchants & user.company_ids.root_id

    @api.model
    def _get_measures(self, merchants, platform=True):
        """Measure the checks of ``merchants`` (and the platform's jobs when ``platform``). Reads
        only. Each measure is a dict of the check's fields plus ``metrics``: the figures an outside
        monitor scrapes. Addons add their checks here."""
        thresholds = self._get_thresholds()
        now = fields.Datetime.now()
        measures = []
        if platform:
            measures += self._measure_crons(thresholds, now)
        if merchants:
            measures += self._measure_mail(merchants, thresholds, now)
            measures += self._measure_rate_limits(merchants, thresholds, now)
        return measures

    @api.model
    def _measure_crons(self, thresholds, now):
        IrCron = self.env["ir.cron"].sudo().with_context(active_test=False)
        crons = IrCron.browse(sorted(IrCron._loyalty_plus_cron_ids())).exists()
        if not crons:
            return []
        expiry = self.env.ref(EXPIRY_CRON, raise_if_not_found=False)
        last_runs, last_successes = {}, {}
        for runs, status_filter in ((last_runs, SQL("TRUE")), (last_successes, SQL("status = 'done'"))):
            self.env.cr.execute(
                SQL(
                    """SELECT DISTINCT ON (cron_id) cron_id, start_date, duration, processed, status
                         FROM loyalty_plus_cron_run
                        WHERE cron_id = ANY(%s) AND %s
                     ORDER BY cron_id, start_date DESC, id DESC""",
                    crons.ids,
                    status_filter,
                )
            )
            for cron_id, start_date, duration, processed, status in self.env.cr.fetchall():
                runs[cron_id] = (start_date, duration or 0.0, processed, status)
        measures = []
        for cron in crons:
            last = last_runs.get(cron.id)
            success = last_successes.get(cron.id)
            if success:
                success_date = success[0] + timedelta(seconds=success[1])
            elif cron.lastcall and not cron.failure_count:
                success_date = cron.lastcall  # a run before the runs were recorded
            else:
                success_date = None
            # a job that never succeeded is counted from its installation
            since = success_date or cron.create_date
            hours = (now - since).total_seconds() / 3600
            state, message = "green", ""
            if expiry and cron == expiry:
                limit = thresholds["expiry_hours"]
                threshold = self.env._("%(hours)s h without success", hours=limit)
                if hours > limit:
                    state = "red"
                    message = self.env._(
                        "The points expiry job has not succeeded for %(hours)s hours.", hours=int(hours)
                    )
            else:
                # at least an hour: the scheduler polls every minute and runs one job at a time
                limit = max(1, STALE_INTERVALS * cron.interval_number * INTERVAL_HOURS.get(cron.interval_type, 24))
                threshold = self.env._("%(hours)s h without success", hours=round(limit, 2))
                if cron.active and hours > limit:
                    state = "amber"
                    message = self.env._("The job has not succeeded for %(hours)s hours.", hours=round(hours, 1))
            if not cron.active:
                state = max(state, "amber", key=SEVERITY.get)
                message = self.env._("The job is deactivated.")
            elif last and last[3] == "failed":
                state = max(state, "amber", key=SEVERITY.get)
                message = message or self.env._("The last run failed: see the server log of %(date)s.", date=last[0])
            measures.append(
                {
                    "key": f"cron:{cron.id}",
                    "category": "cron",
                    "name": cron.cron_name,
                    "company_id": False,
                    "state": state,
                    "value": round(hours, 2),
                    "threshold": threshold,
                    "message": message
                    or (
                        self.env._("Last success %(hours)s hours ago.", hours=round(hours, 1))
                        if success_date
                        else self.env._(
                            "No complete run since its installation %(hours)s hours ago.", hours=round(hours, 1)
                        )
                    ),
                    "cron_id": cron.id,
                    "last_run_date": last and last[0],
                    "last_run_status": last and last[3],
                    "last_success_date": success_date,
                    "last_duration": last[1] if last else 0.0,
                    "last_processed": last[2] if last else 0,
                    "metrics": {
                        "cron_last_success_timestamp_seconds": success_date.replace(tzinfo=UTC).timestamp()
                        if success_date
                        else 0,
                        "cron_hours_since_success": round(hours, 2),
                        "cron_last_duration_seconds": last[1] if last else 0,
                        "cron_last_processed": last[2] if last else 0,
                        "cron_last_run_failed": int(bool(last and last[3] == "failed")),
                        "cron_active": int(cron.active),
                    },
                }
            )
        return measures

    @api.model
    def _measure_mail(self, merchants, thresholds, now):
        rows = (
            self.env["loyalty_plus.mail.trace"]
            .sudo()
            ._read_group(
                [
                    ("date", ">=", now - timedelta(hours=RATE_WINDOW)),
                    ("company_id", "in", merchants.ids),
                    ("state", "in", ["sent", "error", "bounce"]),
                ],
                ["company_id", "template_id", "state"],
                ["__count"],
            )
        )
        counts = {}
        for company, template, state, count in rows:
            per_template = counts.setdefault(company.id, {})
            per_template.setdefault(template.name or "?", {"sent": 0, "error": 0, "bounce": 0})[state] += count
        limit = thresholds["mail_failure_percent"]
        measures = []
        for merchant in merchants:
            per_template = counts.get(merchant.id, {})
            sent = sum(c["sent"] for c in per_template.values())
            failed = sum(c["error"] for c in per_template.values())
            bounced = sum(c["bounce"] for c in per_template.values())
            total = sent + failed + bounced
            rate = 100.0 * (failed + bounced) / total if total else 0.0
            state = "amber" if rate > limit else "green"
            measures.append(
                {
                    "key": "mail",
                    "category": "mail",
                    "name": self.env._("Emails"),
                    "company_id": merchant.id,
                    "state": state,
                    "value": round(rate, 2),
                    "threshold": self.env._("%(percent)s %% failed or bounced", percent=limit),
                    "message": self.env._(
                        "Last %(hours)s hours: %(sent)s sent, %(failed)s failed, %(bounced)s bounced.",
                        hours=RATE_WINDOW,
                        sent=sent,
                        failed=failed,
                        bounced=bounced,
                    ),
                    "metrics": {
                        "mail_failure_percent": round(rate, 2),
                        "mail_sent": sent,
                        "mail_failed": failed,
                        "mail_bounced": bounced,
                    },
                    "per_template": per_template,
                }
            )
        return measures

    @api.model
    def _measure_rate_limits(self, merchants, thresholds, now):
        shops = self.env["res.company"].sudo().search([("id", "child_of", merchants.ids)])
        peaks = self.env["loyalty_plus.rate_limit.refusal"]._get_peaks(
            now.replace(second=0, microsecond=0) - timedelta(minutes=REFUSAL_LOOKBACK), shops.ids
        )
        limit = thresholds["rate_limit_per_minute"]
        measures = []
        for merchant in merchants:
            worst = None
            for shop in shops.filtered(lambda shop, merchant=merchant: shop.root_id == merchant):
                if shop.id in peaks and (worst is None or peaks[shop.id][0] > worst[1][0]):
                    worst = (shop, peaks[shop.id])
            count = worst[1][0] if worst else 0
            state = "amber" if count > limit else "green"
            if worst:
                message = self.env._(
                    "Worst minute of the last %(minutes)s minutes: %(count)s refusals at %(shop)s (%(entry_points)s).",
                    minutes=REFUSAL_LOOKBACK,
                    count=count,
                    shop=worst[0].name,
                    entry_points=", ".join(f"{name}: {n}" for name, n in sorted(worst[1][2].items())),
                )
            else:
                message = self.env._("No refusal in the last %(minutes)s minutes.", minutes=REFUSAL_LOOKBACK)
            measures.append(
                {
                    "key": "rate_limit",
                    "category": "rate_limit",
                    "name": self.env._("Rate-limit refusals"),
                    "company_id": merchant.id,
                    "state": state,
                    "value": count,
                    "threshold": self.env._("%(count)s refusals a minute for one shop", count=limit),
                    "message": message,
                    "metrics": {"rate_limit_refusals_peak_per_minute": count},
                    "per_shop": {
                        shop.name: peaks[shop.id][2] for shop in shops if shop.root_id == merchant and shop.id in peaks
                    },
                }
            )
        return measures

    # ------------------------------------------------------------------
    # Evaluation and incidents (writes)
    # ------------------------------------------------------------------

    @api.model
    def _cron_evaluate(self):
        self._evaluate()

    @api.model
    def _evaluate(self):
        """Measure every check, store the results and open or close their incidents."""
        now = fields.Datetime.now()
        measures = self._get_measures(self._get_merchants(), platform=True)
        existing = {(check.key, check.company_id.id): check for check in self.sudo().search([])}
        check_fields = set(self._fields)
        seen = self.browse()
        for measure in measures:
            vals = {name: value for name, value in measure.items() if name in check_fields}
            vals["evaluated_date"] = now
            check = existing.get((measure["key"], measure["company_id"] or False))
            if check:
                check.write(vals)
            else:
                check = self.sudo().create(vals)
            seen |= check
            check._update_incident(measure)
        gone = self.sudo().search([("id", "not in", seen.ids)])
        for check in gone:
            check._update_incident({"state": "green"})
        gone.unlink()
        return seen

    def _update_incident(self, measure):
        """Open an incident when the check leaves green (one email and activities, once), follow its
        severity while it lasts, close it when the check is green again."""
        self.ensure_one()
        incident = self.open_incident_id
        if measure["state"] == "green":
            if incident:
                incident._close()
                self.open_incident_id = False
        elif incident:
            incident._follow(measure)
        else:
            self.open_incident_id = self.env["loyalty_plus.health.incident"].sudo()._open(self, measure)
