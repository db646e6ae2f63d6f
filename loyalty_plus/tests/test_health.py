from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import freeze_time, tagged

from odoo.addons.mail.tests.common import MockEmail

from ..models.loyalty_plus_rate_limit_refusal import _pending
from .common import LoyaltyPlusCase


class HealthCase(LoyaltyPlusCase):
    """A Loyalty administrator to alert, and helpers to evaluate the checks at a given time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.health_admin = (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Loyalty Admin",
                    "login": "lp_health_admin",
                    "email": "ops@example.com",
                    "group_ids": [
                        Command.set(
                            [cls.env.ref("base.group_user").id, cls.env.ref("loyalty_plus.group_loyalty_plus_admin").id]
                        )
                    ],
                }
            )
        )
        cls.Check = cls.env["loyalty_plus.health.check"]
        cls.Incident = cls.env["loyalty_plus.health.incident"]
        # the crons of the database ran (or not) at times these tests do not control
        cls.env["loyalty_plus.cron.run"].search([]).unlink()
        # what the tests start from: now, as the database sees it
        cls.T0 = fields.Datetime.now().replace(microsecond=0) + timedelta(days=1)

    def setUp(self):
        super().setUp()
        # refusals of read paths that earlier tests left in this process
        _pending.clear()

    def evaluate(self, at):
        with freeze_time(at):
            self.Check._evaluate()

    def check(self, key, company=None):
        return self.Check.search([("key", "=", key), ("company_id", "=", company.id if company else False)])

    def alert_mails(self, incident):
        return self.env["mail.mail"].search(
            [("model", "=", incident._name), ("res_id", "=", incident.id), ("subject", "=like", "Loyalty+ health:%")]
        )

    def assertFiresOnceThenClears(self, key, company, breach_at, still_at, recover, recovered_at, state):
        """The check is red/amber from ``breach_at`` on: one incident, one email, one activity per
        administrator, not repeated at ``still_at``; ``recover()`` then the evaluation at
        ``recovered_at`` close it and its activities."""
        admins = self.Incident._get_administrators()
        self.assertIn(self.health_admin, admins)
        self.evaluate(breach_at)
        check = self.check(key, company)
        self.assertEqual(check.state, state, check.message)
        incident = check.open_incident_id
        self.assertTrue(incident)
        self.assertEqual(incident.severity, state)
        self.assertEqual(len(self.alert_mails(incident)), 1)
        self.assertEqual(self.alert_mails(incident).recipient_ids, admins.partner_id)
        self.assertEqual(incident.activity_ids.user_id, admins)
        self.assertEqual(len(incident.activity_ids), len(admins))
        self.evaluate(still_at)
        self.assertEqual(check.state, state)
        self.assertEqual(check.open_incident_id, incident, "the same incident")
        self.assertEqual(self.Incident.search_count([("check_id", "=", check.id)]), 1, "fired once")
        self.assertEqual(len(self.alert_mails(incident)), 1, "emailed once")
        self.assertEqual(len(incident.activity_ids), len(admins), "no activity added")
        recover()
        self.evaluate(recovered_at)
        self.assertEqual(check.state, "green", check.message)
        self.assertFalse(check.open_incident_id)
        self.assertEqual(incident.state, "closed")
        self.assertEqual(incident.end_date, recovered_at)
        self.assertFalse(incident.activity_ids, "the activities are done")
        return check, incident


@tagged("post_install", "-at_install")
class TestHealthThresholds(HealthCase):
    def test_expiry_job_red_after_26_hours(self):
        cron = self.env.ref("loyalty_plus.ir_cron_expire_points")
        Run = self.env["loyalty_plus.cron.run"]
        # the run succeeded at T0 + 1 minute
        Run.create({"cron_id": cron.id, "start_date": self.T0, "duration": 60, "processed": 7, "status": "done"})
        success = self.T0 + timedelta(minutes=1)
        self.evaluate(success + timedelta(hours=26))
        check = self.check(f"cron:{cron.id}")
        self.assertEqual(check.state, "green", "26 hours exactly: not yet")
        self.assertEqual((check.last_success_date, check.last_duration, check.last_processed), (success, 60, 7))
        # a failed run does not count as a success
        Run.create({"cron_id": cron.id, "start_date": success + timedelta(hours=24), "duration": 2, "status": "failed"})

        def recover():
            Run.create(
                {
                    "cron_id": cron.id,
                    "start_date": success + timedelta(hours=27),
                    "duration": 30,
                    "processed": 3,
                    "status": "done",
                }
            )

        check, _incident = self.assertFiresOnceThenClears(
            f"cron:{cron.id}",
            None,
            breach_at=success + timedelta(hours=26, seconds=1),
            still_at=success + timedelta(hours=26, minutes=30),
            recover=recover,
            recovered_at=success + timedelta(hours=27, minutes=5),
            state="red",
        )
        self.assertEqual(check.last_processed, 3)

    def test_expiry_threshold_configurable(self):
        cron = self.env.ref("loyalty_plus.ir_cron_expire_points")
        self.env["loyalty_plus.cron.run"].create(
            {"cron_id": cron.id, "start_date": self.T0, "duration": 0, "status": "done"}
        )
        self.env["ir.config_parameter"].sudo().set_param("loyalty_plus.health.expiry_hours", 2)
        self.evaluate(self.T0 + timedelta(hours=1, minutes=59))
        self.assertEqual(self.check(f"cron:{cron.id}").state, "green")
        self.evaluate(self.T0 + timedelta(hours=2, minutes=1))
        self.assertEqual(self.check(f"cron:{cron.id}").state, "red")

    def test_mail_failures_over_one_percent(self):
        Trace = self.env["loyalty_plus.mail.trace"]
        template = self.env.ref("loyalty_plus.mail_template_reward_ready")
        with freeze_time(self.T0):
            Trace.create([{"template_id": template.id, "company_id": self.bakery.id, "state": "sent"}] * 99)
            Trace.create({"template_id": template.id, "company_id": self.bakery.id, "state": "bounce"})
        self.evaluate(self.T0 + timedelta(minutes=1))
        check = self.check("mail", self.bakery)
        self.assertEqual((check.state, check.value), ("green", 1.0), "1 % is not over 1 %")
        with freeze_time(self.T0 + timedelta(minutes=2)):
            Trace.create({"template_id": template.id, "company_id": self.bakery.id, "state": "error"})
        self.assertFiresOnceThenClears(
            "mail",
            self.bakery,
            breach_at=self.T0 + timedelta(minutes=3),
            still_at=self.T0 + timedelta(hours=1),
            # the failures leave the 24-hour window
            recover=lambda: None,
            recovered_at=self.T0 + timedelta(hours=24, minutes=3),
            state="amber",
        )
        self.assertEqual(self.check("mail", self.cafe).state, "green", "the other merchant is not concerned")

    def test_rate_limit_refusals_over_100_a_minute(self):
        Refusal = self.env["loyalty_plus.rate_limit.refusal"]
        minute = self.T0.replace(second=0)
        Refusal.create(
            [
                {"company_id": self.branch_esch.id, "entry_point": "stamp", "window_start": minute, "count": 60},
                {"company_id": self.branch_esch.id, "entry_point": "api:lookup", "window_start": minute, "count": 40},
                # another shop of the merchant, another minute: not added
                {"company_id": self.bakery.id, "entry_point": "stamp", "window_start": minute, "count": 90},
                {
                    "company_id": self.branch_esch.id,
                    "entry_point": "stamp",
                    "window_start": minute - timedelta(minutes=1),
                    "count": 100,
                },
            ]
        )
        self.evaluate(minute + timedelta(seconds=30))
        check = self.check("rate_limit", self.bakery)
        self.assertEqual((check.state, check.value), ("green", 100), "100 is not over 100")
        Refusal.create({"company_id": self.branch_esch.id, "entry_point": "redeem", "window_start": minute, "count": 1})
        check, _incident = self.assertFiresOnceThenClears(
            "rate_limit",
            self.bakery,
            breach_at=minute + timedelta(seconds=50),
            still_at=minute + timedelta(minutes=5),
            recover=lambda: None,
            recovered_at=minute + timedelta(minutes=16),
            state="amber",
        )

    def test_checks_of_a_merchant_seen_by_its_manager_only(self):
        self.evaluate(self.T0)
        Check = self.Check.with_user(self.manager).with_context(allowed_company_ids=self.manager.company_ids.ids)
        seen = Check.search([])
        self.assertTrue(seen)
        self.assertEqual(seen.company_id, self.bakery)
        cafe_seen = self.Check.with_user(self.cafe_manager).search([])
        self.assertEqual(cafe_seen.company_id, self.cafe)
        admin_seen = self.Check.with_user(self.health_admin).search([])
        self.assertIn("cron", admin_seen.mapped("category"))
        self.assertLessEqual(self.bakery | self.cafe, admin_seen.company_id)


@tagged("post_install", "-at_install")
class TestHealthRecording(HealthCase, MockEmail):
    def test_cron_run_recorded_with_progress(self):
        self.program.points_expiration_days = 100
        card = self.env["loyalty_plus.card"].create(
            {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        card._apply_ledger({"transaction_type": "points_earned", "points_delta": 40, "shop_id": self.bakery.id})
        card.flush_recordset()
        self.env.cr.execute(
            "UPDATE loyalty_plus_card SET last_activity_date = now() - interval '200 days' WHERE id = %s", [card.id]
        )
        cron = self.env.ref("loyalty_plus.ir_cron_expire_points")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        run = self.env["loyalty_plus.cron.run"].search([("cron_id", "=", cron.id)])
        self.assertEqual(len(run), 1)
        self.assertEqual(run.status, "done")
        self.assertGreaterEqual(run.processed, 1)
        self.assertEqual(run.remaining, 0)
        self.assertGreaterEqual(run.duration, 0)
        self.Check._evaluate()
        check = self.check(f"cron:{cron.id}")
        self.assertEqual(check.state, "green")
        self.assertEqual(check.last_processed, run.processed)

    def test_rate_limit_refusals_counted_per_shop_and_entry_point(self):
        integration = (
            self.env["loyalty_plus.integration"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=self.manager.company_ids.ids)
            .create(
                {
                    "name": "Kiosk",
                    "shop_ids": [Command.set(self.branch_esch.ids)],
                    "rate_limit_per_minute": 2,
                    "allow_stamp": True,
                }
            )
        )
        Api = self.env["loyalty_plus.api"].with_user(integration.user_id)
        Refusal = self.env["loyalty_plus.rate_limit.refusal"]
        with self.enter_registry_test_mode(), freeze_time(self.T0.replace(second=5)):
            refused = 0
            for _call in range(5):
                try:
                    Api._api_begin("earn", self.branch_esch.id)
                except Exception as error:
                    self.assertEqual(error.code, "rate_limited")
                    refused += 1
            self.assertEqual(refused, 3)
            rows = Refusal.search([("company_id", "=", self.branch_esch.id)])
            self.assertEqual(rows.mapped("entry_point"), ["api:earn"])
            self.assertEqual(rows.count, 3)
            # a read path writes nothing by itself: its refusals are written by batches
            for _call in range(12):
                try:
                    Api._api_begin("lookup", self.branch_esch.id)
                except Exception as error:
                    self.assertEqual(error.code, "rate_limited")
            lookups = Refusal.search([("company_id", "=", self.branch_esch.id), ("entry_point", "=", "api:lookup")])
            self.assertEqual(lookups.count, 10, "one batch written, two refusals still in the process")
            Refusal._flush_pending()
            lookups.invalidate_recordset()
            self.assertEqual(lookups.count, 12)

    def test_mail_trace_sent_failed_bounced(self):
        ok = self.card
        broken_partner = self.env["res.partner"].create({"name": "Broken", "email": "broken@"})
        broken = self.env["loyalty_plus.card"].create(
            {"partner_id": broken_partner.id, "program_id": self.program.id, "shop_id": self.bakery.id}
        )
        (ok | broken)._send_lifecycle_mail("mail_template_reward_ready")
        traces = self.env["loyalty_plus.mail.trace"].search([("company_id", "=", self.bakery.id)])
        self.assertEqual(len(traces), 2)
        self.assertEqual(set(traces.mapped("state")), {"outgoing"})
        self.assertEqual(traces.template_id, self.env.ref("loyalty_plus.mail_template_reward_ready"))
        mails = self.env["mail.mail"].browse(traces.mapped("mail_mail_id_int"))
        with self.mock_mail_gateway(mail_unlink_sent=True):
            mails.send()
        by_card = {trace.mail_mail_id_int: trace for trace in traces}
        sent = next(t for t in traces if t.state == "sent")
        failed = next(t for t in traces if t.state == "error")
        self.assertTrue(sent and failed, by_card)
        self.env["mail.thread"]._routing_handle_bounce(
            None,
            {
                "bounced_email": "lea@example.com",
                "bounced_partner": self.partner,
                "bounced_msg_ids": [sent.message_id],
                "bounced_message": self.env["mail.message"],
                "email_from": "mailer-daemon@example.com",
                "to": "bounce@example.com",
                "message_id": "<dsn@example.com>",
            },
        )
        self.assertEqual(sent.state, "bounce")
        self.Check._evaluate()
        check = self.check("mail", self.bakery)
        self.assertEqual(check.state, "amber")
        self.assertEqual(check.value, 100.0)
