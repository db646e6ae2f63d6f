import random
import unicodedata
from datetime import date, datetime, time, timedelta

import pytz

from odoo import fields, models
from odoo.fields import Command
from odoo.tools import SQL

from .loyalty_plus_card import luhn_check_digit

# Visits per week of each kind of member, and the basket they buy (euros).
DEMO_PROFILES = {
    "occasional": {"visits_per_week": 0.4, "basket": (2.6, 11.0), "weekdays_only": False},
    "regular": {"visits_per_week": 1.4, "basket": (2.8, 14.0), "weekdays_only": False},
    "frequent": {"visits_per_week": 3.3, "basket": (3.0, 18.0), "weekdays_only": False},
    # companies ordering breakfast trays for their office
    "office": {"visits_per_week": 1.6, "basket": (60.0, 180.0), "weekdays_only": True},
}

DEMO_MERCHANTS = {
    "bakery": {
        "seed": 352,
        # shop, its staff member, the user at the till, order prefix, share of the members enrolled there
        "manager": "demo_user_bakery_manager",
        "shops": [
            ("demo_company_bakery", "demo_staff_anna", "demo_user_bakery_manager", "LUX", 45),
            ("demo_company_bakery_esch", "demo_staff_marc", "demo_user_esch_cashier", "ESC", 30),
            ("demo_company_bakery_differdange", "demo_staff_sophie", "demo_user_bakery_manager", "DIF", 25),
        ],
        "profiles": {"occasional": 40, "regular": 38, "frequent": 22},
        # rewards members spend points on in the history (the seasonal one is left for the demo)
        "rewards": ["demo_reward_croissant", "demo_reward_5_off", "demo_reward_cake", "demo_reward_voucher"],
        "members": [
            "Jean Weber",
            "Marie Schmit",
            "Paul Hoffmann",
            "Claudine Wagner",
            "Tom Kieffer",
            "Nathalie Thill",
            "Luc Reuter",
            "Carole Majerus",
            "Georges Kremer",
            "Josiane Welter",
            "Pit Schiltz",
            "Sandra Feller",
            "Gilles Hansen",
            "Michèle Theis",
            "Yves Ries",
            "Anne Meyers",
            "Fernand Muller",
            "Léa Faber",
            "Max Steichen",
            "Romain Bettendorf",
            "Françoise Goerens",
            "Jeff Kayser",
            "Céline Dubois",
            "Antoine Lefèvre",
            "Julie Martin",
            "Nicolas Bernard",
            "Camille Moreau",
            "Thomas Laurent",
            "Élodie Girard",
            "Mathieu Petit",
            "Stefan Schneider",
            "Katrin Fischer",
            "Jonas Becker",
            "Sabine Wolff",
            "Lukas Zimmermann",
            "Heike Braun",
            "João da Silva",
            "Ana Ferreira",
            "Rui Pereira",
            "Mariana Gonçalves",
            "Pedro Rodrigues",
            "Inês Santos",
            "Carlos Costa",
            "Beatriz Oliveira",
            "Tiago Carvalho",
            "Sofia Almeida",
            "Miguel Marques",
            "Rita Lopes",
        ],
        # (name, home shop index)
        "offices": [("Fiduciaire Reuter & Associés", 0), ("Garage Hoffmann Differdange", 2)],
    },
    "cafe": {
        "seed": 9237,
        "manager": "demo_user_cafe_manager",
        "shops": [("demo_company_cafe", "demo_staff_jeff", "demo_user_cafe_manager", "CAE", 100)],
        "profiles": {"regular": 40, "frequent": 60},
        "rewards": [],
        "members": [
            "Laura Schmitz",
            "Ben Kayser",
            "Vanessa Hilger",
            "Marco Rossi",
            "Catarina Mendes",
            "Henri Klein",
            "Nadine Lentz",
            "David Molitor",
        ],
        "offices": [],
    },
}


class LoyaltyPlusProgram(models.Model):
    _inherit = "loyalty_plus.program"

    def _demo_generate_history(self, merchant_key):
        """Enroll the demo members of ``merchant_key`` and replay about a year of visits.

        Every movement goes through the card's ledger engine (the same calls the public operations
        make), in date order, so balances, tiers and redemption codes are what real use would give.
        The ledger rows are then backdated with SQL: the engine stamps them with the current time.
        """
        self.ensure_one()
        if self.with_context(active_test=False).card_ids:
            return
        spec = DEMO_MERCHANTS[merchant_key]
        rng = random.Random(spec["seed"])
        ref = self.env.ref
        shops = [
            {
                "company": ref(f"loyalty_plus.{shop}"),
                "staff": ref(f"loyalty_plus.{staff}"),
                "user": ref(f"loyalty_plus.{user}"),
                "prefix": prefix,
                "weight": weight,
            }
            for shop, staff, user, prefix, weight in spec["shops"]
        ]
        rewards = [ref(f"loyalty_plus.{xmlid}") for xmlid in spec["rewards"]]
        manager = ref(f"loyalty_plus.{spec['manager']}")
        tz = pytz.timezone(self.company_id.partner_id.tz or "Europe/Luxembourg")
        today = fields.Datetime.now().replace(tzinfo=pytz.utc).astimezone(tz).date()

        members = self._demo_plan_members(spec, shops, rng, today)
        events = self._demo_plan_events(members, shops, rng, tz, today)
        dates = {"transaction": [], "redemption": [], "card": [], "partner": []}
        order_numbers = dict.fromkeys((shop["prefix"] for shop in shops), 0)
        for when, _seq, kind, member, payload in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == "enroll":
                self._demo_enroll(member, when, rng, dates)
            elif kind == "visit":
                self._demo_visit(member, payload, when, rewards, manager, rng, today, order_numbers, dates)
            elif kind == "return":
                self._demo_return(payload, when, manager, dates)
        self._demo_backdate(dates)

    def _demo_create_customer_login(self, email):
        """Give the demo member with ``email`` a portal login (password = login, see readme/DEMO.md),
        so the customer portal can be tried with a card and its history."""
        self.ensure_one()
        if self.env.ref("loyalty_plus.demo_user_customer", raise_if_not_found=False):
            return
        card = self.card_ids.filtered(lambda c: c.partner_id.email == email)[:1]
        if not card:
            return
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "partner_id": card.partner_id.id,
                    "login": email,
                    "password": email,
                    "company_id": self.company_id.id,
                    "company_ids": [Command.set(self.company_id.ids)],
                    "group_ids": [Command.set(self.env.ref("base.group_portal").ids)],
                }
            )
        )
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": "loyalty_plus.demo_user_customer", "record": user, "noupdate": True}]
        )

    def _demo_plan_members(self, spec, shops, rng, today):
        weights = [shop["weight"] for shop in shops]
        profiles = list(spec["profiles"])
        members = [
            {
                "name": name,
                "is_company": False,
                "profile": rng.choices(profiles, weights=list(spec["profiles"].values()))[0],
                "shop": rng.choices(shops, weights=weights)[0],
            }
            for name in spec["members"]
        ]
        members += [
            {"name": name, "is_company": True, "profile": "office", "shop": shops[shop_index]}
            for name, shop_index in spec["offices"]
        ]
        for member in members:
            # most members joined months ago, a few in the last weeks
            member["enrolled"] = today - timedelta(days=rng.choice([rng.randint(150, 350), rng.randint(4, 350)]))
            member["email"] = self._demo_email(member["name"])
            # stored in E.164, as enrollment stores them
            member["phone"] = f"+352{rng.choice(['621', '661', '691'])}{rng.randint(100, 999)}{rng.randint(100, 999)}"
            if not member["is_company"] and rng.random() < 0.6:
                member["birthday"] = date(today.year - rng.randint(19, 78), 1, 1) + timedelta(days=rng.randint(0, 364))
        return members

    def _demo_plan_events(self, members, shops, rng, tz, today):
        events = []
        seq = 0
        for member in members:
            profile = DEMO_PROFILES[member["profile"]]
            day = member["enrolled"]
            visits = []
            while day < today:
                weekend = day.weekday() >= 5
                chance = profile["visits_per_week"] / 7 * (1.4 if weekend else 1.0)
                if profile["weekdays_only"] and weekend:
                    chance = 0
                if day == member["enrolled"] or rng.random() < chance:
                    local = datetime.combine(day, time(rng.randint(6, 18), rng.randint(0, 59), rng.randint(0, 59)))
                    when = tz.localize(local).astimezone(pytz.utc).replace(tzinfo=None)
                    shop = member["shop"] if rng.random() < 0.85 else rng.choice(shops)
                    low, high = profile["basket"]
                    amount = round(rng.triangular(low, high, low + (high - low) / 4), 2)
                    visits.append({"shop": shop, "amount": amount, "when": when})
                day += timedelta(days=1)
            seq += 1
            events.append((visits[0]["when"] - timedelta(minutes=1), seq, "enroll", member, None))
            for visit in visits:
                seq += 1
                events.append((visit["when"], seq, "visit", member, visit))
            member["visits"] = visits
        # a cashier scans one card twice by mistake and voids the extra stamp at once
        stamp_member = next((m for m in members if m["profile"] == "regular" and len(m["visits"]) > 12), None)
        if stamp_member:
            stamp_member["visits"][len(stamp_member["visits"]) // 2]["double_scan"] = True
        # an office returns part of a large order the next morning: a partial void
        if self.has_points:
            office = next((m for m in members if m["profile"] == "office"), None)
            if office and len(office["visits"]) > 4:
                order = max(office["visits"][:-2], key=lambda v: v["amount"])
                seq += 1
                payload = {"visit": order, "amount": round(order["amount"] * 0.35, 2)}
                events.append((order["when"] + timedelta(hours=20), seq, "return", office, payload))
        return events

    def _demo_email(self, name):
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        words = [w for w in "".join(c if c.isalnum() else " " for c in ascii_name).split() if w != "da"]
        return f"{'.'.join(words[:2])}@example.com"

    def _demo_card_number(self, rng):
        Card = self.env["loyalty_plus.card"].with_context(active_test=False)
        while True:
            body = str(rng.randint(10**10, 10**11 - 1))
            number = body + luhn_check_digit(body)
            if not Card.search_count([("card_number", "=", number)], limit=1):
                return number

    def _demo_env(self, shop):
        """Operations run as the shop's till user, so the ledger says who served the customer."""
        return (
            self.with_user(shop["user"])
            .sudo()
            .with_company(shop["company"])
            .with_context(mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True)
        )

    def _demo_enroll(self, member, when, rng, dates):
        program = self._demo_env(member["shop"])
        company = self.company_id
        partner_vals = {
            "name": member["name"],
            "is_company": member["is_company"],
            "email": member["email"],
            "phone": member["phone"],
            "company_id": company.id,
            "city": member["shop"]["company"].partner_id.city,
            "country_id": company.partner_id.country_id.id,
            "tz": company.partner_id.tz,
        }
        if member.get("birthday"):
            partner_vals["birthday"] = member["birthday"]
        partner = program.env["res.partner"].create(partner_vals)
        card = program.env["loyalty_plus.card"].create(
            {
                "partner_id": partner.id,
                "program_id": program.id,
                "shop_id": member["shop"]["company"].id,
                "card_number": self._demo_card_number(rng),
            }
        )
        member["card"] = card
        dates["partner"].append((partner.id, when))
        dates["card"].append((card.id, when))
        # the welcome bonus the engine gave when the card was created
        dates["transaction"].extend((tx.id, when) for tx in card.transaction_ids)

    def _demo_visit(self, member, visit, when, rewards, manager, rng, today, order_numbers, dates):
        shop = visit["shop"]
        card = member["card"].with_env(self._demo_env(shop).env)
        program = card.program_id
        staff = shop["staff"]
        order_numbers[shop["prefix"]] += 1
        order_ref = f"{shop['prefix']}-{when:%y%m%d}-{order_numbers[shop['prefix']]:05d}"
        step = iter(range(0, 3600, 40))

        def record(tx):
            dates["transaction"].append((tx.id, when + timedelta(seconds=next(step))))
            return tx

        if program.has_stamps:
            record(
                card._apply_ledger(
                    {
                        "transaction_type": "stamp_earned",
                        "stamps_delta": 1,
                        "shop_id": shop["company"].id,
                        "staff_pin_id": staff.id,
                    }
                )
            )
        if program.has_points and program.currency_id.compare_amounts(visit["amount"], program.minimum_purchase) >= 0:
            points = program._get_points_for_amount(visit["amount"], card.tier_id)
            visit["transaction"] = record(
                card._apply_ledger(
                    {
                        "transaction_type": "points_earned",
                        "points_delta": points,
                        "shop_id": shop["company"].id,
                        "staff_pin_id": staff.id,
                        "amount": visit["amount"],
                        "order_ref": order_ref,
                    }
                )
            )
        if visit.get("double_scan"):
            extra = record(
                card._apply_ledger(
                    {
                        "transaction_type": "stamp_earned",
                        "stamps_delta": 1,
                        "shop_id": shop["company"].id,
                        "staff_pin_id": staff.id,
                    }
                )
            )
            # voids are for managers in this merchant (loyalty_plus_void_policy)
            extra = extra.with_user(manager).sudo().with_company(shop["company"])
            result = extra.void(note=self.env._("Card scanned twice at the till."))
            record(extra.browse(result["transaction_id"]))
        if card._stamp_rewards_ready() and rng.random() < 0.85:
            tx = record(
                card._apply_ledger(
                    {
                        "transaction_type": "stamp_redeemed",
                        "stamps_delta": -program.stamps_target,
                        "shop_id": shop["company"].id,
                        "staff_pin_id": staff.id,
                        "order_ref": order_ref,
                    }
                )
            )
            self._demo_redemption(tx, program.stamps_reward_description, None, order_ref, True, dates)
        affordable = [r for r in rewards if not card._get_reward_refusal_code(r)]
        if affordable and rng.random() < 0.08:
            # members who saved up tend to go for the bigger rewards
            affordable.sort(key=lambda r: r.points_cost)
            reward = rng.choices(affordable, weights=range(1, len(affordable) + 1))[0]
            tx = record(
                card._apply_ledger(
                    {
                        "transaction_type": "points_redeemed",
                        "points_delta": -reward.points_cost,
                        "shop_id": shop["company"].id,
                        "staff_pin_id": staff.id,
                        "order_ref": order_ref,
                        "reward_id": reward.id,
                    }
                )
            )
            # recent codes are sometimes kept for the next visit; the rest were used at the till
            used = (today - when.date()).days > 21 or rng.random() < 0.5
            self._demo_redemption(tx, reward.name, reward, order_ref, used, dates)

    def _demo_redemption(self, tx, description, reward, order_ref, used, dates):
        Redemption = self.env["loyalty_plus.redemption"].with_env(tx.env).sudo()
        redemption = Redemption._issue(tx, description, reward=reward)
        if used:
            Redemption.consume(redemption.code, used_ref=order_ref)
        when = next(d for tx_id, d in reversed(dates["transaction"]) if tx_id == tx.id)
        dates["redemption"].append((redemption.id, when, when + timedelta(minutes=2) if used else None))

    def _demo_return(self, payload, when, manager, dates):
        origin = payload["visit"]["transaction"]
        origin = origin.with_user(manager).sudo().with_company(payload["visit"]["shop"]["company"])
        result = origin.void(
            amount=payload["amount"], note=self.env._("Part of a breakfast tray order returned uneaten.")
        )
        dates["transaction"].append((result["transaction_id"], when))

    def _demo_backdate(self, dates):
        """Move the demo rows to the dates they happened: the engine wrote them all just now."""

        def values(rows):
            return SQL(", ").join(SQL("(%s, %s::timestamp)", row_id, when) for row_id, when in rows)

        cr = self.env.cr
        cr.execute(
            SQL(
                """UPDATE loyalty_plus_transaction t SET create_date = v.d, write_date = v.d
                     FROM (VALUES %s) AS v(id, d) WHERE t.id = v.id""",
                values(dates["transaction"]),
            )
        )
        cr.execute(
            SQL(
                """UPDATE res_partner p SET create_date = v.d, write_date = v.d
                     FROM (VALUES %s) AS v(id, d) WHERE p.id = v.id""",
                values(dates["partner"]),
            )
        )
        if dates["redemption"]:
            cr.execute(
                SQL(
                    """UPDATE loyalty_plus_redemption r
                          SET create_date = v.d, write_date = coalesce(v.used, v.d),
                              used_date = CASE WHEN r.state = 'used' THEN v.used END
                         FROM (VALUES %s) AS v(id, d, used) WHERE r.id = v.id""",
                    SQL(", ").join(SQL("(%s, %s::timestamp, %s::timestamp)", *row) for row in dates["redemption"]),
                )
            )
        # the card's dates follow from its (now backdated) ledger, as the engine would have set them
        card_ids = tuple(card_id for card_id, _when in dates["card"])
        cr.execute(
            SQL(
                """UPDATE loyalty_plus_card c
                      SET create_date = x.first_date,
                          write_date = x.last_date,
                          last_activity_date = x.last_date,
                          last_stamp_date = x.last_stamp_date,
                          last_points_date = x.last_points_date
                     FROM (SELECT card_id,
                                  min(create_date) AS first_date,
                                  max(create_date) AS last_date,
                                  max(create_date) FILTER (WHERE transaction_type = 'stamp_earned')
                                      AS last_stamp_date,
                                  max(create_date) FILTER (
                                      WHERE points_delta != 0 AND transaction_type != 'points_expired'
                                  ) AS last_points_date
                             FROM loyalty_plus_transaction
                            WHERE card_id IN %s
                         GROUP BY card_id) AS x
                    WHERE c.id = x.card_id""",
                card_ids,
            )
        )
        self.env.invalidate_all()
