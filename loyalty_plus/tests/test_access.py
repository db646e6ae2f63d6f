import itertools

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.loyalty_plus.exceptions import LoyaltyPlusRefusal
from odoo.addons.loyalty_plus.models.loyalty_plus_staff_pin import PIN_CRYPT

from .common import LoyaltyPlusCase

# The rights of ir.model.access.csv, spelled out (c: create, r: read, w: write, u: unlink); a group
# inherits the lines of the groups it implies (admin > manager > cashier).
RIGHTS = {
    "loyalty_plus.program": {"cashier": "r", "manager": "rwc", "admin": "rwcu"},
    "loyalty_plus.card": {"cashier": "rwc", "manager": "rwc", "admin": "rwcu"},
    "loyalty_plus.transaction": {"cashier": "r", "manager": "r", "admin": "r"},
    "loyalty_plus.staff_pin": {"cashier": "r", "manager": "rwcu", "admin": "rwcu"},
    "loyalty_plus.reward": {"cashier": "r", "manager": "rwcu", "admin": "rwcu"},
    "loyalty_plus.tier": {"cashier": "r", "manager": "rwcu", "admin": "rwcu"},
    "loyalty_plus.redemption": {"cashier": "r", "manager": "r", "admin": "r"},
}
MODELS = tuple(RIGHTS)
# What loyalty_plus_website grants portal users when it is installed: reading their own cards,
# with what the portal shows of them (their ledger, the program, its rewards and tiers).
PORTAL_RIGHTS_WITH_WEBSITE = {
    "loyalty_plus.program": "r",
    "loyalty_plus.card": "r",
    "loyalty_plus.transaction": "r",
    "loyalty_plus.reward": "r",
    "loyalty_plus.tier": "r",
}
OPERATIONS = {"read": "r", "write": "w", "create": "c", "unlink": "u"}

# a value of the right type for every balance field of a card
BALANCE_VALUES = {
    "stamp_count": 9,
    "total_stamps_earned": 9,
    "total_stamps_redeemed": 9,
    "points_balance": 999,
    "total_points_earned": 999,
    "total_points_redeemed": 999,
    "total_points_voided": 999,
    "total_points_expired": 999,
    "last_stamp_date": "2020-01-01 00:00:00",
    "last_points_date": "2020-01-01 00:00:00",
    "last_activity_date": "2020-01-01 00:00:00",
}


@tagged("post_install", "-at_install")
class TestLoyaltyPlusAccess(LoyaltyPlusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website_installed = bool(
            cls.env["ir.module.module"].search_count(
                [("name", "=", "loyalty_plus_website"), ("state", "=", "installed")]
            )
        )
        cls._counter = itertools.count(1)
        # spare cards of the access checks start without history, so that unlinking them is possible
        cls.program.welcome_bonus_points = 0
        cls.program.write({"stamp_cooldown_minutes": 0, "max_stamps_per_day": 0})
        cls.admin = new_test_user(
            cls.env,
            login="lp_admin",
            groups="base.group_user,loyalty_plus.group_loyalty_plus_admin",
            company_id=cls.bakery.id,
            company_ids=[Command.set((cls.bakery | cls.branch_esch | cls.branch_diff | cls.cafe).ids)],
        )
        cls.portal = new_test_user(
            cls.env,
            login="lp_portal",
            groups="base.group_portal",
            company_id=cls.bakery.id,
            company_ids=[Command.set(cls.bakery.ids)],
        )
        cls.cafe_cashier = new_test_user(
            cls.env,
            login="lp_cafe_cashier",
            groups="base.group_user,loyalty_plus.group_loyalty_plus_cashier",
            company_id=cls.cafe.id,
            company_ids=[Command.set(cls.cafe.ids)],
        )
        # one record of every model for each merchant
        cls.bakery_records = cls._make_records(cls.bakery)
        cls.cafe_records = cls._make_records(cls.cafe)
        # bakery users see the bakery, café users the café, the platform admin either one (company switcher)
        cls.roles = [
            ("cashier", cls.cashier, cls.bakery),
            ("manager", cls.manager, cls.bakery),
            ("admin", cls.admin, cls.bakery),
            ("portal", cls.portal, cls.bakery),
            ("cashier", cls.cafe_cashier, cls.cafe),
            ("manager", cls.cafe_manager, cls.cafe),
            ("admin", cls.admin, cls.cafe),
        ]

    @classmethod
    def _make_records(cls, merchant):
        """A record of each model for ``merchant``, made as superuser."""
        records = {name: cls._new_record(name, merchant) for name in MODELS}
        records["loyalty_plus.program"] = cls.program if merchant == cls.bakery else cls.cafe_program
        return records

    @classmethod
    def _new_record(cls, model, merchant):
        """A fresh record of ``model`` for ``merchant``, with no history hanging on it."""
        env = cls.env
        n = next(cls._counter)
        program = cls.program if merchant == cls.bakery else cls.cafe_program
        if model == "loyalty_plus.program":
            return env[model].create({"name": f"Spare {n}", "company_id": merchant.id, "active": False})
        if model == "loyalty_plus.card":
            partner = env["res.partner"].create({"name": f"Customer {n}"})
            return env[model].create({"partner_id": partner.id, "program_id": program.id, "shop_id": merchant.id})
        if model == "loyalty_plus.transaction":
            card = cls._new_record("loyalty_plus.card", merchant)
            return card._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": merchant.id})
        if model == "loyalty_plus.staff_pin":
            return env[model].create(
                {"name": f"Staff {n}", "program_id": program.id, "shop_id": merchant.id, "new_pin": "2468"}
            )
        if model == "loyalty_plus.reward":
            return env[model].create(
                {"name": f"Reward {n}", "program_id": program.id, "points_cost": 10, "discount_amount": 1.0}
            )
        if model == "loyalty_plus.tier":
            return env[model].create({"name": f"Tier {n}", "program_id": program.id, "threshold_points": 1000 + n})
        if model == "loyalty_plus.redemption":
            tx = cls._new_record("loyalty_plus.transaction", merchant)
            return env[model]._issue(tx, f"Gift {n}")
        raise ValueError(model)

    def _create_vals(self, model, merchant):
        """Values a user would send to create a ``model`` record for ``merchant``."""
        n = next(self._counter)
        program = self.program if merchant == self.bakery else self.cafe_program
        if model == "loyalty_plus.program":
            return {"name": f"New {n}", "company_id": merchant.id, "active": False}
        if model == "loyalty_plus.card":
            partner = self.env["res.partner"].create({"name": f"New customer {n}"})
            return {"partner_id": partner.id, "program_id": program.id, "shop_id": merchant.id}
        if model == "loyalty_plus.transaction":
            card = self._new_record("loyalty_plus.card", merchant)
            return {"card_id": card.id, "transaction_type": "points_adjusted", "points_delta": 500}
        if model == "loyalty_plus.staff_pin":
            return {"name": f"New staff {n}", "program_id": program.id, "shop_id": merchant.id, "new_pin": "1357"}
        if model == "loyalty_plus.reward":
            return {"name": f"New reward {n}", "program_id": program.id, "points_cost": 5, "discount_amount": 2.0}
        if model == "loyalty_plus.tier":
            return {"name": f"New tier {n}", "program_id": program.id, "threshold_points": 5000 + n}
        if model == "loyalty_plus.redemption":
            card = self._new_record("loyalty_plus.card", merchant)
            return {"code": f"NEW-{n:04d}", "card_id": card.id}
        raise ValueError(model)

    @staticmethod
    def _write_vals(model):
        """A harmless change to a ``model`` record, and the field that shows it happened."""
        if model == "loyalty_plus.card":
            return {"marketing_consent": True}, "marketing_consent"
        if model == "loyalty_plus.transaction":
            return {"note": "edited"}, "note"
        if model == "loyalty_plus.redemption":
            return {"used_ref": "edited"}, "used_ref"
        return {"name": "Renamed"}, "name"

    def _rights(self, model, role):
        if role == "portal" and self.website_installed:
            return PORTAL_RIGHTS_WITH_WEBSITE.get(model, "")
        return RIGHTS[model].get(role, "")

    def _records(self, merchant):
        return self.bakery_records if merchant == self.bakery else self.cafe_records

    def _other(self, merchant):
        return self.cafe if merchant == self.bakery else self.bakery

    # ------------------------------------------------------------------
    # the matrix
    # ------------------------------------------------------------------

    def test_acl_rights_match_csv(self):
        """has_access() on each model answers what ir.model.access.csv grants each group."""
        for (role, user, company), model, (operation, letter) in itertools.product(
            self.roles, MODELS, OPERATIONS.items()
        ):
            expected = letter in self._rights(model, role)
            with self.subTest(role=role, user=user.login, model=model, operation=operation):
                Model = self.as_user(self.env[model], user, company)
                self.assertEqual(Model.has_access(operation), expected)

    def test_read_own_merchant_only(self):
        for (role, user, company), model in itertools.product(self.roles, MODELS):
            own = self._records(company)[model]
            other = self._records(self._other(company))[model]
            Model = self.as_user(self.env[model], user, company)
            with self.subTest(role=role, user=user.login, company=company.name, model=model):
                if role == "portal":
                    # a portal user without a card sees nothing, whichever addons grant portal access
                    if "r" in self._rights(model, role):
                        self.assertFalse(Model.search([]))
                    else:
                        with self.assertRaises(AccessError):
                            Model.search([])
                    with self.assertRaises(AccessError):
                        self.as_user(own, user, company).read(["display_name"])
                    continue
                found = Model.search([])
                self.assertIn(own, found)
                self.assertNotIn(other, found)
                other_merchant = self._other(company)
                self.assertFalse(found.filtered(lambda r, m=other_merchant: r.sudo().company_id == m))
                self.assertFalse(Model.search([("id", "=", other.id)]))
                self.assertEqual(Model.search_count([("id", "=", other.id)]), 0)
                values = self.as_user(own, user, company).read()
                self.assertEqual(values[0]["id"], own.id)
                with self.assertRaises(AccessError):
                    self.as_user(other, user, company).read(["display_name"])

    def test_admin_sees_both_merchants_when_both_are_active(self):
        for model in MODELS:
            with self.subTest(model=model):
                Model = (
                    self.env[model]
                    .with_user(self.admin)
                    .with_context(allowed_company_ids=[self.bakery.id, self.cafe.id])
                )
                found = Model.search([])
                self.assertIn(self.bakery_records[model], found)
                self.assertIn(self.cafe_records[model], found)

    def test_create_rights(self):
        for (role, user, company), model in itertools.product(self.roles, MODELS):
            allowed = "c" in self._rights(model, role)
            for merchant in (company, self._other(company)):
                vals = self._create_vals(model, merchant)
                Model = self.as_user(self.env[model], user, company)
                with self.subTest(role=role, user=user.login, model=model, merchant=merchant.name):
                    if allowed and merchant == company:
                        record = Model.create(vals)
                        self.assertEqual(record.sudo().company_id, merchant)
                    else:
                        with self.assertRaises(AccessError), self.env.cr.savepoint():
                            Model.create(vals)

    def test_write_rights(self):
        for (role, user, company), model in itertools.product(self.roles, MODELS):
            allowed = "w" in self._rights(model, role)
            vals, field = self._write_vals(model)
            for merchant in (company, self._other(company)):
                record = self._new_record(model, merchant)
                before = record[field]
                with self.subTest(role=role, user=user.login, model=model, merchant=merchant.name):
                    if model == "loyalty_plus.transaction":
                        # the ledger refuses any write, whoever asks
                        with self.assertRaises(UserError), self.env.cr.savepoint():
                            self.as_user(record, user, company).write(vals)
                    elif allowed and merchant == company:
                        self.as_user(record, user, company).write(vals)
                        record.invalidate_recordset()
                        self.assertEqual(record[field], vals[field])
                        continue
                    else:
                        with self.assertRaises(AccessError), self.env.cr.savepoint():
                            self.as_user(record, user, company).write(vals)
                    record.invalidate_recordset()
                    self.assertEqual(record[field], before)

    def test_unlink_rights(self):
        for (role, user, company), model in itertools.product(self.roles, MODELS):
            allowed = "u" in self._rights(model, role)
            for merchant in (company, self._other(company)):
                record = self._new_record(model, merchant)
                with self.subTest(role=role, user=user.login, model=model, merchant=merchant.name):
                    if allowed and merchant == company:
                        self.as_user(record, user, company).unlink()
                        self.assertFalse(record.exists())
                    else:
                        with self.assertRaises(AccessError), self.env.cr.savepoint():
                            self.as_user(record, user, company).unlink()
                        self.assertTrue(record.exists())

    def test_cashier_changes_no_card_ownership(self):
        """A cashier's rights on cards serve the operations: whose card it is, whether it is active
        and where it was issued are a manager's to change; the consent date is nobody's."""
        card = self.as_user(self.card, self.cashier)
        card.write({"marketing_consent": True})
        for vals in (
            {"active": False},
            {"partner_id": self.partner2.id},
            {"terms_accepted_date": "2020-01-01 00:00:00"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError), self.env.cr.savepoint():
                card.write(vals)
        self.assertTrue(self.card.active)
        self.assertEqual(self.card.partner_id, self.partner)
        self.as_user(self.card, self.manager).write({"active": False})
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.card, self.manager).write({"terms_accepted_date": "2020-01-01 00:00:00"})
        # cards are issued only in a shop the user acts for
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.env["loyalty_plus.card"], self.cashier).create(
                {"partner_id": self.partner2.id, "program_id": self.program.id, "shop_id": self.branch_diff.id}
            )

    def test_wizards_only_for_cards_the_user_may_change(self):
        for model in ("loyalty_plus.card.adjust", "loyalty_plus.card.restore_points"):
            with self.subTest(model=model), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_user(self.env[model], self.cafe_manager).create({"card_id": self.card.id, "reason": "x"})

    def test_void_follows_the_card_rules(self):
        self.bakery.write({"loyalty_plus_cross_location": False, "loyalty_plus_void_policy": "cashier"})
        earned = self.card._apply_ledger(
            {"transaction_type": "points_earned", "points_delta": 10, "shop_id": self.bakery.id}, lock=False
        )
        with self.assertRaisesRegex(UserError, "valid only in"):
            self.as_user(earned, self.cashier, self.branch_esch).void(shop_id=self.branch_esch.id)
        self.assertEqual(self.card.points_balance, 30)

    def test_enroll_never_links_another_merchants_contact(self):
        contact = self.env["res.partner"].create(
            {"name": "Romain Bettendorf", "email": "romain@example.com", "company_id": self.bakery.id}
        )
        summary = self.as_user(self.env["loyalty_plus.card"], self.cafe_manager).enroll(
            "Someone Else", "romain@example.com"
        )
        card = self.env["loyalty_plus.card"].browse(summary["id"])
        self.assertNotEqual(card.partner_id, contact)
        self.assertEqual(card.partner_id.company_id, self.cafe)
        self.assertNotIn("Romain", str(summary))

    def test_records_cannot_move_to_other_merchant(self):
        """A user may change their merchant's records, not hand them over to another merchant."""
        moves = [
            ("loyalty_plus.card", self.cashier, {"program_id": self.cafe_program.id, "shop_id": self.cafe.id}),
            ("loyalty_plus.program", self.manager, {"company_id": self.cafe.id}),
            ("loyalty_plus.staff_pin", self.manager, {"program_id": self.cafe_program.id, "shop_id": self.cafe.id}),
            ("loyalty_plus.reward", self.manager, {"program_id": self.cafe_program.id}),
            ("loyalty_plus.tier", self.manager, {"program_id": self.cafe_program.id}),
        ]
        for model, user, vals in moves:
            record = self._new_record(model, self.bakery)
            with self.subTest(model=model, user=user.login):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_user(record, user).write(vals)
                record.invalidate_recordset()
                self.assertEqual(record.company_id, self.bakery)

    # ------------------------------------------------------------------
    # the ledger and the balances
    # ------------------------------------------------------------------

    def test_ledger_rows_are_append_only(self):
        tx = self.bakery_records["loyalty_plus.transaction"]
        for user in (self.cashier, self.manager, self.admin):
            with self.subTest(user=user.login):
                with self.assertRaises(UserError), self.env.cr.savepoint():
                    self.as_user(tx, user).write({"points_delta": 1000})
                # no group has an unlink line on the ledger
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_user(tx, user).unlink()
        with self.subTest(user="superuser"):
            with self.assertRaises(UserError), self.env.cr.savepoint():
                tx.sudo().write({"points_delta": 1000})
            with self.assertRaises(UserError), self.env.cr.savepoint():
                tx.sudo().unlink()
        tx.invalidate_recordset()
        self.assertTrue(tx.exists())
        self.assertEqual(tx.points_delta, 0)
        self.assertEqual(tx.stamps_delta, 1)

    def test_card_with_history_cannot_be_deleted(self):
        card = self.bakery_records["loyalty_plus.transaction"].card_id
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.as_user(card, self.admin).unlink()
        self.assertTrue(card.exists())

    def test_balance_fields_are_not_writable(self):
        card = self.card
        card.sudo()._apply_ledger(
            {"transaction_type": "points_adjusted", "points_delta": 30, "shop_id": self.bakery.id}
        )
        fields_to_check = {**BALANCE_VALUES, "tier_id": self.silver.id}
        as_users = {
            user.login: self.as_user(card, user, self.bakery) for user in (self.cashier, self.manager, self.admin)
        }
        as_users["superuser"] = card.sudo()
        for (login, card_as), (field, value) in itertools.product(as_users.items(), fields_to_check.items()):
            with self.subTest(user=login, field=field):
                card.invalidate_recordset()
                before = card.read([field])[0][field]
                with self.assertRaises(UserError), self.env.cr.savepoint():
                    card_as.write({field: value})
                card.invalidate_recordset()
                self.assertEqual(card.read([field])[0][field], before)
        self.assertLedgerMatches(card)

    def test_new_card_cannot_start_with_a_balance(self):
        for field, value in {**BALANCE_VALUES, "tier_id": self.silver.id}.items():
            with self.subTest(field=field):
                partner = self.env["res.partner"].create({"name": f"Rich {field}"})
                Card = self.as_user(self.env["loyalty_plus.card"], self.manager)
                with self.assertRaises(UserError), self.env.cr.savepoint():
                    Card.create({"partner_id": partner.id, "program_id": self.program.id, field: value})
                self.assertFalse(self.env["loyalty_plus.card"].search([("partner_id", "=", partner.id)]))

    # ------------------------------------------------------------------
    # staff PINs
    # ------------------------------------------------------------------

    def test_pin_hash_is_not_readable(self):
        for user in (self.cashier, self.manager, self.admin):
            with self.subTest(user=user.login):
                pin = self.as_user(self.pin_anna, user)
                with self.assertRaises(AccessError):
                    pin.read(["pin_hash"])
                with self.assertRaises(AccessError):
                    pin.search_read([("id", "=", pin.id)], ["pin_hash"])
                pin.invalidate_recordset()
                with self.assertRaises(AccessError):
                    _hash = pin.pin_hash
                self.assertNotIn("pin_hash", pin.read()[0])
                self.assertFalse(pin.read(["new_pin"])[0]["new_pin"])

    def test_clear_pin_is_never_stored(self):
        for pin, clear in ((self.pin_anna, "1234"), (self.pin_esch, "5678")):
            with self.subTest(pin=pin.name):
                stored = pin.sudo().pin_hash
                self.assertTrue(stored)
                self.assertNotEqual(stored, clear)
                self.assertTrue(PIN_CRYPT.verify(clear, stored))
                self.assertTrue(stored.startswith("$pbkdf2-sha256$"))
                self.env.flush_all()
                self.env.cr.execute("SELECT * FROM loyalty_plus_staff_pin WHERE id = %s", [pin.id])
                row = self.env.cr.dictfetchone()
                self.assertNotIn("new_pin", row)
                self.assertNotIn(clear, [str(value) for value in row.values()])
        # a manager changes a PIN: the new one works, is stored hashed and never shown again
        pin = self.as_user(self.pin_anna, self.manager)
        old_hash = self.pin_anna.sudo().pin_hash
        pin.new_pin = "9876"
        pin.invalidate_recordset()
        self.assertFalse(pin.new_pin)
        new_hash = self.pin_anna.sudo().pin_hash
        self.assertNotEqual(new_hash, old_hash)
        self.assertTrue(PIN_CRYPT.verify("9876", new_hash))
        self.pin_anna._check_pin("9876", self.bakery)  # accepted: no refusal
        with self.assertRaises(LoyaltyPlusRefusal) as caught:
            self.pin_anna._check_pin("1234", self.bakery)
        self.assertEqual(caught.exception.code, "wrong_pin")

    def test_cashier_cannot_unlock_pin(self):
        self.bakery.loyalty_plus_pin_max_attempts = 2
        card = self.as_user(self.card, self.cashier)
        for _attempt in range(2):
            self.refusal_of(lambda card=card: card.add_stamp(staff_pin_id=self.pin_anna.id, pin="0000"))
        self.pin_anna.invalidate_recordset()
        self.assertTrue(self.pin_anna.is_locked)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.pin_anna, self.cashier).action_unlock()
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.pin_anna, self.cafe_manager).action_unlock()
        self.pin_anna.invalidate_recordset()
        self.assertTrue(self.pin_anna.is_locked)
        with self.assertRaisesRegex(UserError, "locked"), self.env.cr.savepoint():
            card.add_stamp(staff_pin_id=self.pin_anna.id, pin="1234")
        self.assertTrue(self.as_user(self.pin_anna, self.manager).action_unlock())
        self.pin_anna.invalidate_recordset()
        self.assertFalse(self.pin_anna.is_locked)
        self.assertEqual(self.pin_anna.failed_attempts, 0)
        self.assertTrue(card.add_stamp(staff_pin_id=self.pin_anna.id, pin="1234")["ok"])

    # ------------------------------------------------------------------
    # branches
    # ------------------------------------------------------------------

    def test_branch_user_sees_merchant_records(self):
        for model in ("loyalty_plus.program", "loyalty_plus.card", "loyalty_plus.reward", "loyalty_plus.tier"):
            with self.subTest(model=model):
                Model = self.as_user(self.env[model], self.cashier, self.branch_esch)
                found = Model.search([])
                self.assertIn(self.bakery_records[model], found)
                self.assertNotIn(self.cafe_records[model], found)
        Program = self.as_user(self.env["loyalty_plus.program"], self.cashier, self.branch_esch)
        self.assertEqual(Program._get_for_shop(self.branch_esch), self.program)
        card = self.as_user(self.card, self.cashier, self.branch_esch)
        self.assertEqual(card.read(["card_number"])[0]["card_number"], self.card.card_number)
        self.assertEqual(card.lookup(self.card.card_number)["id"], self.card.id)
        # the branch stamps the merchant's card with its own staff member
        result = card.add_stamp(staff_pin_id=self.pin_esch.id, pin="5678")
        self.assertTrue(result["ok"])
        tx = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertEqual(tx.shop_id, self.branch_esch)
        self.assertEqual(tx.user_id, self.cashier)
        self.assertIn(tx, self.as_user(self.env["loyalty_plus.transaction"], self.cashier, self.branch_esch).search([]))
        # a staff member of the main shop is not valid in the branch
        with self.assertRaises(UserError), self.env.cr.savepoint():
            card.add_stamp(staff_pin_id=self.pin_anna.id, pin="1234")
        # the cashier does not work in Differdange
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            card.add_stamp(staff_pin_id=self.pin_esch.id, pin="5678", shop_id=self.branch_diff.id)
        self.assertLedgerMatches(self.card)
        self.assertEqual(self.card.stamp_count, 1)

    # ------------------------------------------------------------------
    # manager-only operations
    # ------------------------------------------------------------------

    def test_cashier_cannot_adjust_points(self):
        balance = self.card.points_balance
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.card, self.cashier).adjust_points(50, "goodwill")
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.card, self.cafe_manager).adjust_points(50, "goodwill")
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.card, self.portal).adjust_points(50, "goodwill")
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, balance)
        result = self.as_user(self.card, self.manager).adjust_points(50, "goodwill")
        self.assertTrue(result["ok"])
        tx = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertEqual(tx.admin_user_id, self.manager)
        self.assertEqual(self.card.points_balance, balance + 50)
        self.assertLedgerMatches(self.card)

    def test_portal_cannot_operate_cards(self):
        card = self.as_user(self.card, self.portal)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            card.add_stamp(staff_pin_id=self.pin_anna.id, pin="1234")
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            card.earn_points(50, order_ref="PORTAL-1")
        self.assertLedgerMatches(self.card)
        self.assertEqual(self.card.stamp_count, 0)

    def test_other_merchant_cannot_operate_card(self):
        card = self.as_user(self.card, self.cafe_manager)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            card.add_stamp(staff_pin_id=self.pin_anna.id, pin="1234")
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            card.earn_points(50, order_ref="CAFE-1")
        # acting for a shop of the bakery is refused to a café user
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(self.cafe_records["loyalty_plus.card"], self.cafe_manager).add_stamp(shop_id=self.bakery.id)
        self.assertEqual(self.card.stamp_count, 0)
        self.assertLedgerMatches(self.card)

    # ------------------------------------------------------------------
    # void policy
    # ------------------------------------------------------------------

    def _stamp(self, user=None, company=None):
        card = self.as_user(self.card, user or self.manager, company)
        staff, pin = (self.pin_esch, "5678") if company == self.branch_esch else (self.pin_anna, "1234")
        result = card.add_stamp(staff_pin_id=staff.id, pin=pin)
        self.assertTrue(result["ok"])
        return self.env["loyalty_plus.transaction"].browse(result["transaction_id"])

    def test_void_policy_manager(self):
        self.assertEqual(self.bakery.loyalty_plus_void_policy, "manager")
        tx = self._stamp()
        # a café that lets cashiers void changes nothing in the bakery
        self.cafe.loyalty_plus_void_policy = "cashier"
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(tx, self.cashier).void()
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_user(tx, self.cashier, self.branch_esch).void()
        self.assertEqual(self.card.stamp_count, 1)
        result = self.as_user(tx, self.manager).void(note="mistake")
        self.assertTrue(result["ok"])
        self.assertEqual(self.card.stamp_count, 0)
        void = self.env["loyalty_plus.transaction"].browse(result["transaction_id"])
        self.assertEqual(void.origin_transaction_id, tx)
        self.assertEqual(void.transaction_type, "stamp_voided")
        self.assertLedgerMatches(self.card)

    def test_void_policy_cashier(self):
        self.bakery.loyalty_plus_void_policy = "cashier"
        first, second = self._stamp(), self._stamp()
        self.assertTrue(self.as_user(first, self.cashier).void()["ok"])
        self.assertTrue(self.as_user(second, self.cashier, self.branch_esch).void()["ok"])
        self.assertEqual(self.card.stamp_count, 0)
        self.assertLedgerMatches(self.card)
        # the policy opens voids to the merchant's cashiers, not to another merchant's staff
        third = self._stamp()
        for user in (self.cafe_cashier, self.cafe_manager, self.portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_user(third, user).void()
        self.assertEqual(self.card.stamp_count, 1)
        self.assertLedgerMatches(self.card)
