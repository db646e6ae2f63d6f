from odoo.tests import tagged

from .common_reports import ReportLedgersCase


@tagged("post_install", "-at_install")
class TestReports(ReportLedgersCase):
    """Known ledgers, every figure of the reports checked exactly, as a manager of each merchant."""

    # ------------------------------------------------------------------ program overview

    def test_overview_per_shop_and_month(self):
        self.build_bakery()
        self.refresh()
        rows = self.report(
            "loyalty_plus.report.overview",
            self.manager,
            [("month", "<", self.month(0))],
            [
                "month",
                "shop_id",
                "new_members",
                "active_members",
                "visits",
                "stamps_given",
                "points_earned",
                "points_redeemed",
                "points_expired",
                "redemption_rate",
                "member_sales",
                "member_basket",
            ],
        )
        got = {
            (row["month"], row["shop_id"][0]): (
                row["new_members"],
                row["active_members"],
                row["visits"],
                row["stamps_given"],
                row["points_earned"],
                row["points_redeemed"],
                row["points_expired"],
                row["redemption_rate"],
                row["member_sales"],
                row["member_basket"],
            )
            for row in rows
        }
        shop, esch = self.bakery.id, self.branch_esch.id
        self.assertEqual(
            got,
            {
                # Ana and Ben join; Ana's points and stamp are one visit, Ben's stamp another
                (self.month(3), shop): (2, 2, 2, 2, 100, 0, 0, 0.0, 10.0, 10.0),
                (self.month(2), shop): (0, 1, 1, 0, 50, 0, 0, 0.0, 5.0, 5.0),
                (self.month(2), esch): (1, 1, 1, 0, 200, 0, 0, 0.0, 20.0, 20.0),
                # Ana spends 100 points (active, no visit); Cleo's adjustment is no activity
                (self.month(1), shop): (0, 1, 0, 0, 0, 100, 0, False, 0.0, False),
                # the expiry (no shop) counts in Cleo's shop of enrollment
                (self.month(1), esch): (0, 1, 1, 0, 30, 0, 30, 0.0, 3.0, 3.0),
            },
        )

    # ------------------------------------------------------------------ cohorts

    def test_cohort_cells(self):
        self.build_bakery()
        self.refresh()
        rows = self.report(
            "loyalty_plus.report.cohort",
            self.manager,
            [("program_id", "=", self.program.id), ("cohort_month", "<", self.month(0))],
            ["cohort_month", "shop_id", "months_after", "cohort_members", "retained_members", "retention_rate"],
        )
        got = {
            (row["cohort_month"], row["shop_id"][0], row["months_after"]): (
                row["cohort_members"],
                row["retained_members"],
                row["retention_rate"],
            )
            for row in rows
        }
        shop, esch = self.bakery.id, self.branch_esch.id
        self.assertEqual(
            got,
            {
                (self.month(3), shop, 0): (2, 2, 100.0),
                (self.month(3), shop, 1): (2, 1, 50.0),
                (self.month(3), shop, 2): (2, 1, 50.0),  # Ana's redemption
                (self.month(3), shop, 3): (2, 0, 0.0),
                (self.month(2), esch, 0): (1, 1, 100.0),
                (self.month(2), esch, 1): (1, 1, 100.0),
                (self.month(2), esch, 2): (1, 0, 0.0),
            },
        )
        # the pivot's default: enrollment month by months after
        env = self.env(user=self.manager, context={"allowed_company_ids": self.manager.company_ids.ids})
        groups = env["loyalty_plus.report.cohort"].formatted_read_group(
            [("program_id", "=", self.program.id), ("cohort_month", "=", self.month(3))],
            ["months_after"],
            ["retained_members:sum", "retention_rate:avg"],
        )
        self.assertEqual(
            [(g["months_after"], g["retained_members:sum"], g["retention_rate:avg"]) for g in groups],
            [(0, 2, 100.0), (1, 1, 50.0), (2, 1, 50.0), (3, 0, 0.0)],
        )

    # ------------------------------------------------------------------ points liability

    def test_liability_reconciles_with_the_ledger(self):
        self.build_bakery()
        self.refresh()
        rows = self.report(
            "loyalty_plus.report.liability",
            self.manager,
            [("program_id", "=", self.program.id)],
            [
                "month",
                "shop_id",
                "points_earned",
                "points_redeemed",
                "points_refunded",
                "points_expired",
                "points_voided",
                "points_adjusted",
                "points_outstanding",
                "liability",
            ],
        )
        for row in rows:
            self.assertEqual(
                row["points_earned"]
                + row["points_redeemed"]
                + row["points_refunded"]
                + row["points_expired"]
                + row["points_voided"]
                + row["points_adjusted"],
                row["points_outstanding"],
                "a month's movement adds up to its net change",
            )
        per_shop = {}
        for row in rows:
            per_shop[row["shop_id"][0]] = per_shop.get(row["shop_id"][0], 0) + row["points_outstanding"]
        # the bakery gave 150, took back 100 (Ana's reward) and added 5 (the adjustment), besides the welcome
        # bonus of 20 of the fixture's card; Esch gave 230, 30 expired
        self.assertEqual(per_shop, {self.bakery.id: 75, self.branch_esch.id: 200})
        month_1 = {row["shop_id"][0]: row for row in rows if row["month"] == self.month(1)}
        self.assertEqual(
            (month_1[self.bakery.id]["points_redeemed"], month_1[self.bakery.id]["points_adjusted"]), (-100, 5)
        )
        self.assertEqual((month_1[self.branch_esch.id]["points_expired"]), -30)
        # to the cent: the report's liability, the ledger's sum and the cards' balances, at 0.0125 a point
        env = self.env(user=self.manager, context={"allowed_company_ids": self.manager.company_ids.ids})
        total = env["loyalty_plus.report.liability"].formatted_read_group(
            [("program_id", "=", self.program.id)], [], ["points_outstanding:sum", "liability:sum"]
        )[0]
        ledger = sum(
            self.env["loyalty_plus.transaction"].search([("program_id", "=", self.program.id)]).mapped("points_delta")
        )
        balances = sum(
            self.env["loyalty_plus.card"].search([("program_id", "=", self.program.id)]).mapped("points_balance")
        )
        self.assertEqual(total["points_outstanding:sum"], 275)
        self.assertEqual(ledger, 275)
        self.assertEqual(balances, 275)
        self.assertEqual(round(total["liability:sum"], 2), 3.44)
        self.assertAlmostEqual(total["liability:sum"], 3.4375, places=6)
        # the value of a point is read live, without a refresh
        self.program.point_value = 0.02
        total = env["loyalty_plus.report.liability"].formatted_read_group(
            [("program_id", "=", self.program.id)], [], ["liability:sum"]
        )[0]
        self.assertEqual(round(total["liability:sum"], 2), 5.50)

    # ------------------------------------------------------------------ members at risk

    def test_churn_at_risk_and_reengagement(self):
        cards = self.build_cafe_members()
        self.refresh()
        rows = self.report(
            "loyalty_plus.report.churn",
            self.cafe_manager,
            [],
            ["card_id", "visit_count", "median_interval", "threshold_days", "days_inactive"],
        )
        got = {
            row["card_id"][0]: (row["visit_count"], row["median_interval"], row["threshold_days"], row["days_inactive"])
            for row in rows
        }
        self.assertEqual(
            got,
            {
                cards["Dora"].id: (3, 12.0, 24, 76),
                cards["Finn"].id: (1, False, 60, 70),
                cards["Hugo"].id: (0, False, 60, 200),
            },
        )
        # one click: the re-engagement email to those who agreed to it, once a quarter
        env = self.env(user=self.cafe_manager, context={"allowed_company_ids": self.cafe.ids})
        at_risk = env["loyalty_plus.report.churn"].search([])
        result = at_risk.action_send_reengagement()
        self.assertIn("2 members", result["params"]["message"])
        template = self.env.ref("loyalty_plus.mail_template_reengagement")
        mails = self.env["mail.mail"].search([("model", "=", "loyalty_plus.card"), ("res_id", "in", at_risk.ids)])
        self.assertEqual(sorted(mails.mapped("res_id")), sorted((cards["Dora"] | cards["Hugo"]).ids))
        self.assertEqual(
            set(mails.mapped("subject")),
            set(template._render_field("subject", (cards["Dora"] | cards["Hugo"]).ids).values()),
        )
        self.assertTrue(cards["Dora"].reengagement_sent_date)
        result = env["loyalty_plus.report.churn"].search([]).action_send_reengagement()
        self.assertIn("0 members", result["params"]["message"])
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "loyalty_plus.card"), ("res_id", "in", at_risk.ids)]), 2
        )

    # ------------------------------------------------------------------ fraud watch

    def test_fraud_watch_flags(self):
        kiosk, program, _pins, boss = self.build_kiosk()
        self.refresh()
        fields_read = [
            "staff_pin_id",
            "user_id",
            "stamps",
            "stamp_hours",
            "stamps_per_hour",
            "shop_stamps_per_hour",
            "voids",
            "adjustments",
            "quick_refunds",
            "burst_redemptions",
            "pin_locks",
            "speed_flag",
            "corrections_flag",
            "flagged",
        ]

        def watch():
            rows = self.report("loyalty_plus.report.fraud", boss, [("month", "=", self.month(1))], fields_read)
            return {
                (row["staff_pin_id"] and row["staff_pin_id"][1]) or row["user_id"][1]: tuple(
                    row[name] for name in fields_read[2:]
                )
                for row in rows
            }

        # the shop's norm: 25 stamps in 7 hours of stamping = 3.6 an hour; voids and adjustments: 1 a head
        self.maxDiff = None
        self.assertEqual(
            watch(),
            {
                "Fast": (12, 1, 12.0, 3.6, 0, 0, 0, 0, 2, True, False, True),
                "Normal": (7, 3, 2.3, 3.6, 1, 0, 0, 1, 0, False, False, True),
                "Steady": (4, 2, 2.0, 3.6, 1, 0, 1, 0, 0, False, False, True),
                "Calm": (2, 1, 2.0, 3.6, 0, 0, 0, 0, 0, False, False, False),
                "Kiosk Manager": (0, 0, False, 3.6, 0, 3, 0, 0, 0, False, True, True),
            },
        )
        # the merchant raises the threshold: read live, no refresh; quick refunds and bursts stay flagged
        program.with_user(boss).with_context(allowed_company_ids=kiosk.ids).fraud_threshold = 5.0
        self.env.invalidate_all()  # the next request's cache
        self.assertEqual(
            {name: row[-1] for name, row in watch().items()},
            {"Fast": False, "Normal": True, "Steady": True, "Calm": False, "Kiosk Manager": False},
        )

    # ------------------------------------------------------------------ isolation

    def test_each_manager_sees_only_their_merchant(self):
        self.build_bakery()
        self.build_cafe_members()
        self.refresh()
        seen_by_admin = {}
        for model in [
            "loyalty_plus.report.overview",
            "loyalty_plus.report.cohort",
            "loyalty_plus.report.churn",
            "loyalty_plus.report.liability",
            "loyalty_plus.report.fraud",
        ]:
            seen_by_admin[model] = {row["company_id"][0] for row in self.env[model].search_read([], ["company_id"])}
            for user, merchant in [(self.manager, self.bakery), (self.cafe_manager, self.cafe)]:
                seen = {row["company_id"][0] for row in self.report(model, user, [], ["company_id"])}
                self.assertEqual(seen, seen_by_admin[model] & set(merchant.ids), f"{model} as {user.name}")
        # every report holds rows of both merchants (the café's stamps make no points liability)
        self.assertLessEqual({self.bakery.id, self.cafe.id}, seen_by_admin["loyalty_plus.report.overview"])
        self.assertLessEqual({self.bakery.id, self.cafe.id}, seen_by_admin["loyalty_plus.report.cohort"])
        self.assertLessEqual({self.bakery.id, self.cafe.id}, seen_by_admin["loyalty_plus.report.fraud"])
        self.assertIn(self.cafe.id, seen_by_admin["loyalty_plus.report.churn"])
        self.assertIn(self.bakery.id, seen_by_admin["loyalty_plus.report.liability"])
        # a cashier reads no report
        env = self.env(user=self.cashier)
        self.assertFalse(env["loyalty_plus.report.overview"].has_access("read"))
