from contextlib import contextmanager
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from odoo.fields import Command

from .common import LoyaltyPlusCase


class ReportLedgersCase(LoyaltyPlusCase):
    """Known ledgers for the reports. The reports judge "now" with the database's clock: the
    ledgers are dated relative to today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"welcome_bonus_points": 0, "point_value": 0.0125})
        now = datetime.now().replace(microsecond=0)
        cls.this_month = now.replace(day=1, hour=0, minute=0, second=0)
        cls.today = now

    # ------------------------------------------------------------------ helpers

    def month(self, months_ago):
        return (self.this_month - relativedelta(months=months_ago)).date()

    def at(self, months_ago, day, hour=10, minute=0):
        return self.this_month - relativedelta(months=months_ago) + timedelta(days=day - 1, hours=hour, minutes=minute)

    def days_ago(self, days):
        return self.today - timedelta(days=days)

    @contextmanager
    def dated(self, when):
        """What the block writes is dated ``when`` (the ORM and the ledger read the cursor's now)."""
        self.env.flush_all()
        self.env.cr._now = when
        try:
            yield
            self.env.flush_all()
        finally:
            self.env.cr._now = None

    def new_card(self, program, name, shop, when, **partner_vals):
        with self.dated(when):
            partner = self.env["res.partner"].create({"name": name, **partner_vals})
            return self.env["loyalty_plus.card"].create(
                {"partner_id": partner.id, "program_id": program.id, "shop_id": shop.id}
            )

    def row(self, card, when, transaction_type, points=0, stamps=0, **vals):
        with self.dated(when):
            return card._apply_ledger(
                {"transaction_type": transaction_type, "points_delta": points, "stamps_delta": stamps, **vals}
            )

    def refresh(self):
        self.env["loyalty_plus.report.mixin"]._refresh_all_summaries()

    def report(self, model, user, domain=(), fields=()):
        """The report's rows as ``user`` sees them from all their companies."""
        env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
        return env[model].search_read(list(domain), list(fields))

    # ------------------------------------------------------------------ ledgers

    def build_bakery(self):
        """Three members of the bakery over the last three months (see each figure below)."""
        shop, esch = self.bakery, self.branch_esch
        anna, marc = self.pin_anna.id, self.pin_esch.id
        a = self.new_card(self.program, "Ana Reis", shop, self.at(3, 2, 9), email="ana@example.com")
        self.row(a, self.at(3, 2), "points_earned", points=100, amount=10, shop_id=shop.id, staff_pin_id=anna)
        self.row(a, self.at(3, 2), "stamp_earned", stamps=1, shop_id=shop.id, staff_pin_id=anna)
        self.row(a, self.at(2, 5), "points_earned", points=50, amount=5, shop_id=shop.id, staff_pin_id=anna)
        self.row(a, self.at(1, 3), "points_redeemed", points=-100, shop_id=shop.id, staff_pin_id=anna)
        b = self.new_card(self.program, "Ben Kirsch", shop, self.at(3, 10, 9))
        self.row(b, self.at(3, 10, 11), "stamp_earned", stamps=1, shop_id=shop.id, staff_pin_id=anna)
        c = self.new_card(self.program, "Cleo Hoffmann", esch, self.at(2, 1, 8))
        self.row(c, self.at(2, 1, 9), "points_earned", points=200, amount=20, shop_id=esch.id, staff_pin_id=marc)
        self.row(c, self.at(1, 1, 9), "points_earned", points=30, amount=3, shop_id=esch.id, staff_pin_id=marc)
        self.row(c, self.at(1, 20), "points_expired", points=-30)
        self.row(c, self.at(1, 21), "points_adjusted", points=5, shop_id=shop.id, user_id=self.manager.id)
        return a, b, c

    def build_cafe_members(self):
        cafe, program = self.cafe, self.cafe_program
        cards = {}
        for name, enrolled, visits, vals in [
            # three visits 10 and 14 days apart: usual interval 12 days, at risk after 24; 76 days idle
            ("Dora", 120, (100, 90, 76), {"email": "dora@example.com", "consent": True}),
            # three visits, last one 10 days ago: not at risk
            ("Emil", 120, (30, 20, 10), {"email": "emil@example.com", "consent": True}),
            # one visit 70 days ago: the program's delay (60 days) applies
            ("Finn", 120, (70,), {"email": "finn@example.com", "consent": False}),
            # one visit 50 days ago: not yet
            ("Gina", 120, (50,), {"email": "gina@example.com", "consent": True}),
            # never came back after enrolling 200 days ago
            ("Hugo", 200, (), {"email": "hugo@example.com", "consent": True}),
        ]:
            card = self.new_card(program, name, cafe, self.days_ago(enrolled), email=vals["email"])
            card.marketing_consent = vals["consent"]
            for days in visits:
                self.row(card, self.days_ago(days), "stamp_earned", stamps=1, shop_id=cafe.id)
            cards[name] = card
        # an archived card is nobody's risk
        ivo = self.new_card(program, "Ivo", cafe, self.days_ago(300))
        self.row(ivo, self.days_ago(290), "stamp_earned", stamps=1, shop_id=cafe.id)
        ivo.active = False
        return cards

    def build_kiosk(self):
        """A kiosk whose month shows one of each anomaly (see the flags below)."""
        kiosk = self.env["res.company"].create(
            {
                "name": "Test Kiosk",
                "currency_id": self.env.ref("base.EUR").id,
                "loyalty_plus_plan_id": self.env.ref("loyalty_plus.plan_enterprise").id,
            }
        )
        program = self.env["loyalty_plus.program"].create(
            {"name": "Kiosk", "company_id": kiosk.id, "program_type": "hybrid", "fraud_threshold": 2.0}
        )
        pins = {
            name: self.env["loyalty_plus.staff_pin"].create(
                {"name": name, "program_id": program.id, "shop_id": kiosk.id, "new_pin": pin}
            )
            for name, pin in [("Fast", "1111"), ("Normal", "2222"), ("Steady", "3333"), ("Calm", "4444")]
        }
        boss = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Kiosk Manager",
                    "login": "lp_kiosk_manager",
                    "company_id": kiosk.id,
                    "company_ids": [Command.set(kiosk.ids)],
                    "group_ids": [
                        Command.set(
                            [
                                self.env.ref("base.group_user").id,
                                self.env.ref("loyalty_plus.group_loyalty_plus_manager").id,
                            ]
                        )
                    ],
                }
            )
        )
        customers = [self.new_card(program, f"Kiosk customer {i}", kiosk, self.at(2, 1)) for i in range(20)]

        def stamp(pin, card, day, hour, minute):
            return self.row(
                card,
                self.at(1, day, hour, minute),
                "stamp_earned",
                stamps=1,
                shop_id=kiosk.id,
                staff_pin_id=pins[pin].id,
            )

        # Normal: 4 stamps in 2 hours, one of them voided a week later (a void, not a quick refund)
        first = stamp("Normal", customers[0], 3, 10, 0)
        for i, (hour, minute) in enumerate([(10, 20), (11, 0), (11, 40)], start=1):
            stamp("Normal", customers[i], 3, hour, minute)
        self.row(
            customers[0],
            self.at(1, 10),
            "stamp_voided",
            stamps=-1,
            shop_id=kiosk.id,
            staff_pin_id=pins["Normal"].id,
            origin_transaction_id=first.id,
        )
        # Normal again: three stamps on one card within the hour, then its reward (a burst)
        for minute in (0, 30, 55):
            stamp("Normal", customers[4], 7, 9, minute)
        self.row(
            customers[4],
            self.at(1, 7, 10, 10),
            "stamp_redeemed",
            stamps=-3,
            shop_id=kiosk.id,
            staff_pin_id=pins["Normal"].id,
        )
        # Steady: 4 stamps in 2 hours, and a purchase voided half an hour after it earned (a quick refund)
        for i, (hour, minute) in enumerate([(10, 0), (10, 30), (14, 0), (14, 30)]):
            stamp("Steady", customers[5 + i], 4, hour, minute)
        earn = self.row(
            customers[9],
            self.at(1, 6, 12),
            "points_earned",
            points=10,
            amount=10,
            shop_id=kiosk.id,
            staff_pin_id=pins["Steady"].id,
        )
        self.row(
            customers[9],
            self.at(1, 6, 12, 30),
            "points_voided",
            points=-10,
            amount=-10,
            shop_id=kiosk.id,
            staff_pin_id=pins["Steady"].id,
            origin_transaction_id=earn.id,
        )
        # Fast: 12 stamps in one hour, on 12 cards
        for i in range(12):
            stamp("Fast", customers[8 + i], 5, 15, i * 5)
        # Calm: 2 stamps in one hour
        stamp("Calm", customers[0], 8, 16, 0)
        stamp("Calm", customers[1], 8, 16, 45)
        # the manager adjusts three balances by hand (no PIN: counted for the user)
        for i in range(3):
            self.row(
                customers[10 + i], self.at(1, 9, 9, i), "points_adjusted", points=5, shop_id=kiosk.id, user_id=boss.id
            )
        self.env.cr.execute("UPDATE loyalty_plus_staff_pin SET lock_count = 2 WHERE id = %s", [pins["Fast"].id])
        pins["Fast"].invalidate_recordset(["lock_count"])
        return kiosk, program, pins, boss
