from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import LoyaltyPlusCase


@tagged("post_install", "-at_install")
class TestEarningViews(LoyaltyPlusCase):
    """The backend screens of earning rules and campaigns, used as a merchant's manager would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coffee_category = cls.env["product.category"].create({"name": "Test hot drinks"})
        cls.coffee = cls.env["product.product"].create(
            {"name": "Test espresso", "company_id": cls.bakery.id, "categ_id": cls.coffee_category.id}
        )
        cls.gift_card = cls.env["product.product"].create(
            {"name": "Test gift card", "company_id": cls.bakery.id, "type": "service"}
        )
        cls.portal = new_test_user(cls.env, login="lp_views_portal", groups="base.group_portal")

    def _program_form(self, user=None):
        return Form(self.as_user(self.program, user or self.manager))

    # ------------------------------------------------------------------
    # the program's "Earning rules" page
    # ------------------------------------------------------------------

    def test_program_form_edits_each_rule_type(self):
        """Each rule type is entered in the editable list with the fields of its type, and saved."""
        with self._program_form() as program_form:
            program_form.earning_tax_base = "excluded"
            with program_form.earning_rule_ids.new() as rule:
                rule.name = "2 stamps from €5"
                rule.rule_type = "stamps_visit"
                rule.stamps = 2
                rule.minimum_amount = 5
            with program_form.earning_rule_ids.new() as rule:
                rule.name = "1 stamp per coffee"
                rule.rule_type = "stamps_item"
                rule.category_ids.add(self.coffee_category)
            with program_form.earning_rule_ids.new() as rule:
                rule.name = "1 stamp per €50"
                rule.rule_type = "stamps_spend"
                rule.spend_step = 50
            with program_form.earning_rule_ids.new() as rule:
                rule.name = "3 points per euro on coffee"
                rule.rule_type = "points_spend"
                rule.points_per_euro = 3
                rule.product_ids.add(self.coffee)
            with program_form.earning_rule_ids.new() as rule:
                rule.name = "Triple points on hot drinks"
                rule.rule_type = "points_multiplier"
                rule.multiplier = 3
                rule.category_ids.add(self.coffee_category)
        rules = {rule.name: rule for rule in self.program.earning_rule_ids}
        self.assertEqual(self.program.earning_tax_base, "excluded")
        self.assertEqual(
            set(rules),
            {
                "One stamp per visit",  # the program's first rule
                "2 stamps from €5",
                "1 stamp per coffee",
                "1 stamp per €50",
                "3 points per euro on coffee",
                "Triple points on hot drinks",
            },
        )
        self.assertRecordValues(
            rules["2 stamps from €5"], [{"rule_type": "stamps_visit", "stamps": 2, "minimum_amount": 5.0}]
        )
        self.assertEqual(rules["1 stamp per coffee"].category_ids, self.coffee_category)
        self.assertEqual(rules["1 stamp per €50"].spend_step, 50)
        self.assertRecordValues(
            rules["3 points per euro on coffee"], [{"rule_type": "points_spend", "points_per_euro": 3.0}]
        )
        self.assertEqual(rules["3 points per euro on coffee"].product_ids, self.coffee)
        self.assertEqual(rules["Triple points on hot drinks"].multiplier, 3)

    def test_rule_list_shows_the_fields_of_its_type(self):
        """A stamps rule has no rate or multiplier to fill in, a points rule no stamps."""
        with self._program_form() as program_form, program_form.earning_rule_ids.new() as rule:
            rule.name = "1 stamp per item"
            rule.rule_type = "stamps_item"
            for field_name in ("multiplier", "points_per_euro", "spend_step", "minimum_amount"):
                with self.subTest(field=field_name), self.assertRaises(AssertionError):
                    setattr(rule, field_name, 4)
            rule.rule_type = "points_multiplier"
            with self.assertRaises(AssertionError):
                rule.stamps = 3
            rule.rule_type = "stamps_spend"
            rule.spend_step = 20

    def test_stamps_only_program_has_no_points_columns(self):
        """The café's stamp card shows no points rate nor multiplier column; the bakery's hybrid both."""
        points_columns = ("points_per_euro", "multiplier")
        for program, user, hidden in (
            (self.cafe_program, self.cafe_manager, True),
            (self.program, self.manager, False),
        ):
            program_form = Form(self.as_user(program, user))
            with program_form.earning_rule_ids.new() as rule:
                rule.name = "1 stamp per item"
                rule.rule_type = "stamps_item"
                for field_name in points_columns:
                    with self.subTest(program=program.name, field=field_name):
                        self.assertEqual(bool(rule._get_modifier(field_name, "column_invisible")), hidden)
                self.assertFalse(rule._get_modifier("stamps", "column_invisible"))
            program_form.save()

    def test_program_form_campaign_settings(self):
        """The bonus cap shows with additive stacking only."""
        with self._program_form() as program_form:
            self.assertEqual(program_form.campaign_stacking, "best")
            with self.assertRaises(AssertionError):
                program_form.campaign_bonus_cap = 50
            program_form.campaign_stacking = "additive"
            program_form.campaign_bonus_cap = 50
        self.assertRecordValues(self.program, [{"campaign_stacking": "additive", "campaign_bonus_cap": 50}])

    def test_program_form_adds_a_campaign(self):
        """The program's Campaigns page opens the campaign form on a new campaign of the program."""
        with self._program_form() as program_form, program_form.campaign_ids.new() as campaign:
            campaign.name = "Double points Tuesday"
            campaign.tuesday = True
        campaign = self.program.campaign_ids
        self.assertRecordValues(
            campaign,
            [{"name": "Double points Tuesday", "campaign_type": "multiplier", "multiplier": 2.0, "tuesday": True}],
        )
        self.assertEqual(campaign.state, "running")

    # ------------------------------------------------------------------
    # the campaign form
    # ------------------------------------------------------------------

    def _campaign_form(self):
        # the manager works in all the merchant's shops at once (company switcher): it picks branches
        Campaign = self.env["loyalty_plus.campaign"].with_user(self.manager)
        form = Form(Campaign.with_context(allowed_company_ids=self.manager.company_ids.ids))
        form.program_id = self.program
        return form

    def test_campaign_form_each_type(self):
        """Each campaign type is entered with its window, conditions and caps, and saved."""
        now = fields.Datetime.now()
        form = self._campaign_form()
        form.name = "Morning double points"
        form.campaign_type = "multiplier"
        form.apply_to = "both"
        form.multiplier = 2
        form.monday = True
        form.friday = True
        form.hour_from = 7
        form.hour_to = 10.5
        form.shop_ids.add(self.branch_esch)
        form.tier_ids.add(self.silver)
        form.max_uses_per_member = 4
        multiplier = form.save()
        self.assertRecordValues(
            multiplier,
            [
                {
                    "apply_to": "both",
                    "monday": True,
                    "tuesday": False,
                    "friday": True,
                    "hour_from": 7.0,
                    "hour_to": 10.5,
                    "max_uses_per_member": 4,
                    "state": "running",
                }
            ],
        )
        self.assertEqual(multiplier.shop_ids, self.branch_esch)
        self.assertEqual(multiplier.tier_ids, self.silver)

        form = self._campaign_form()
        form.name = "Big basket bonus"
        form.campaign_type = "bonus"
        form.bonus_points = 30
        form.bonus_stamps = 1
        form.minimum_amount = 20
        form.product_ids.add(self.coffee)
        form.date_start = now + timedelta(days=3)
        form.date_end = now + timedelta(days=10)
        form.max_uses = 100
        bonus = form.save()
        self.assertRecordValues(
            bonus, [{"bonus_points": 30, "bonus_stamps": 1, "minimum_amount": 20.0, "state": "scheduled"}]
        )
        self.assertEqual(bonus.product_ids, self.coffee)

        form = self._campaign_form()
        form.name = "Welcome back"
        form.campaign_type = "first_visit_month"
        form.bonus_points = 20
        form.date_start = now - timedelta(days=60)
        form.date_end = now - timedelta(days=30)
        first_visit = form.save()
        self.assertRecordValues(first_visit, [{"bonus_points": 20, "state": "ended"}])

        for discount_type, value_field, value in (
            ("percent", "discount_value", 10),
            ("fixed", "discount_value", 3),
            ("product", "discount_product_id", self.coffee),
        ):
            with self.subTest(discount_type=discount_type):
                form = self._campaign_form()
                form.name = f"Members' {discount_type}"
                form.campaign_type = "discount"
                form.discount_type = discount_type
                setattr(form, value_field, value)
                form.category_ids.add(self.coffee_category)
                promotion = form.save()
                self.assertEqual(promotion[value_field], value)
                self.assertEqual(promotion.category_ids, self.coffee_category)

    def test_campaign_form_shows_the_fields_of_its_type(self):
        """A multiplier has no bonus nor discount to fill in; the use count is the engine's."""
        form = self._campaign_form()
        form.name = "Double"
        for field_name in ("bonus_points", "bonus_stamps", "discount_value"):
            with self.subTest(field=field_name), self.assertRaises(AssertionError):
                setattr(form, field_name, 5)
        with self.assertRaises(AssertionError):
            form.use_count = 10
        form.campaign_type = "bonus"
        with self.assertRaises(AssertionError):
            form.multiplier = 3
        form.campaign_type = "discount"
        form.discount_type = "percent"
        with self.assertRaises(AssertionError):
            form.discount_product_id = self.coffee
        form.discount_type = "product"
        with self.assertRaises(AssertionError):
            form.discount_value = 10
        form.discount_product_id = self.coffee
        form.save()

    def test_campaign_list_groups_by_state(self):
        """The Campaigns menu opens the list grouped by state, with the state as a badge."""
        action = self.env.ref("loyalty_plus.loyalty_plus_campaign_action")
        self.assertIn("search_default_group_by_state", action.context)
        arch = (
            self.env["loyalty_plus.campaign"]
            .with_user(self.manager)
            .get_views([(False, "list")])["views"]["list"]["arch"]
        )
        state = etree.fromstring(arch).xpath("//field[@name='state']")
        self.assertEqual(state[0].get("widget"), "badge")
        menu = self.env.ref("loyalty_plus.loyalty_plus_campaign_menu")
        visible = self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.cashier)._visible_menu_ids())

    # ------------------------------------------------------------------
    # rights
    # ------------------------------------------------------------------

    def test_other_merchant_cannot_read_rules_nor_campaigns(self):
        """The café's manager neither finds nor reads the bakery's rules and campaigns."""
        campaign = self.env["loyalty_plus.campaign"].create({"name": "Bakery double", "program_id": self.program.id})
        rule = self.program.earning_rule_ids[:1]
        self.assertTrue(rule)
        for record in (rule, campaign):
            with self.subTest(model=record._name):
                as_cafe = self.as_user(record, self.cafe_manager)
                self.assertFalse(as_cafe.search([("id", "=", record.id)]))
                with self.assertRaises(AccessError):
                    as_cafe.read(["name"])
                with self.assertRaises(AccessError):
                    as_cafe.write({"name": "Taken over"})
                # the bakery's manager from a branch sees the merchant's records
                self.assertEqual(
                    self.as_user(record, self.manager, self.branch_esch).read(["name"])[0]["id"], record.id
                )

    def test_cashier_reads_manager_writes_portal_nothing(self):
        campaign = self.env["loyalty_plus.campaign"].create({"name": "Bakery +10", "program_id": self.program.id})
        rule = self.program.earning_rule_ids[:1]
        for record in (rule, campaign):
            with self.subTest(model=record._name):
                self.as_user(record, self.cashier).read(["name"])
                with self.assertRaises(AccessError):
                    self.as_user(record, self.cashier).write({"name": "Changed"})
                self.as_user(record, self.manager).write({"name": "Renamed"})
                self.assertEqual(record.name, "Renamed")
                portal = self.as_user(record, self.portal)
                self.assertFalse(portal.has_access("read"))

    # ------------------------------------------------------------------
    # the product flag
    # ------------------------------------------------------------------

    def test_product_flag_on_the_product_form(self):
        """A manager finds "Earns no loyalty" on the product form and a filter for it."""
        for model in ("product.template", "product.product"):
            with self.subTest(model=model):
                views = self.env[model].with_user(self.manager).get_views([(False, "form"), (False, "search")])
                form = etree.fromstring(views["views"]["form"]["arch"])
                self.assertTrue(form.xpath("//field[@name='lp_earning_excluded']"))
                search = etree.fromstring(views["views"]["search"]["arch"])
                self.assertTrue(search.xpath("//filter[@name='lp_earning_excluded']"))
        # a cashier does not configure earning
        arch = self.env["product.template"].with_user(self.cashier).get_views([(False, "form")])
        self.assertFalse(etree.fromstring(arch["views"]["form"]["arch"]).xpath("//field[@name='lp_earning_excluded']"))

        with Form(self.gift_card.product_tmpl_id) as product_form:
            product_form.lp_earning_excluded = True
        self.assertTrue(self.gift_card.lp_earning_excluded)
        excluded = self.env["product.product"].search([("lp_earning_excluded", "=", True)])
        self.assertIn(self.gift_card, excluded)
        self.assertNotIn(self.coffee, excluded)


@tagged("post_install", "-at_install")
class TestEarningViewsTour(LoyaltyPlusCase, HttpCase):
    """In the browser: a merchant's manager creates a double-points day from the menu."""

    def test_manager_creates_a_campaign_from_the_menu(self):
        self.manager.password = "lp_manager"  # start_tour logs in with the login as password
        now = fields.Datetime.now()
        self.env["loyalty_plus.campaign"].create(
            [
                {"name": "Morning bonus", "program_id": self.program.id, "campaign_type": "bonus", "bonus_points": 5},
                {
                    "name": "Summer stamps",
                    "program_id": self.program.id,
                    "date_start": now - timedelta(days=90),
                    "date_end": now - timedelta(days=30),
                },
            ]
        )
        self.start_tour("/odoo", "loyalty_plus_campaign_create", login="lp_manager")
        campaign = self.env["loyalty_plus.campaign"].search([("name", "=", "Double points")])
        self.assertRecordValues(
            campaign,
            [
                {
                    "program_id": self.program.id,
                    "campaign_type": "multiplier",
                    "multiplier": 2.0,
                    "tuesday": True,
                    "monday": False,
                    "state": "running",
                }
            ],
        )
