from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal
from .loyalty_plus_plan import PLAN_FEATURES


class ResCompany(models.Model):
    _inherit = "res.company"

    # Merchant settings live on the merchant (the root company); branches read them from there.
    loyalty_plus_cross_location = fields.Boolean(
        string="Cards valid in every shop",
        default=True,
        help="On: one card per customer for the whole merchant, usable in every shop. "
        "Off: one card per customer per shop, usable only where it was enrolled.",
    )
    loyalty_plus_self_enrollment = fields.Boolean(
        string="Customers may enroll themselves",
        default=True,
    )
    loyalty_plus_void_policy = fields.Selection(
        selection=[("cashier", "Cashiers and managers"), ("manager", "Managers only")],
        string="Who may void",
        default="manager",
        required=True,
    )
    loyalty_plus_pin_max_attempts = fields.Integer(string="Wrong PINs before lock", default=5)
    loyalty_plus_pin_lock_minutes = fields.Integer(string="PIN lock (minutes)", default=30)

    loyalty_plus_plan_id = fields.Many2one(
        "loyalty_plus.plan",
        string="Loyalty+ plan",
        default=lambda self: self.env["loyalty_plus.plan"].sudo().search([("is_default", "=", True)], limit=1),
        ondelete="restrict",
        help="What the merchant subscribes to: its members, shops and features. Set by the Loyalty "
        "administrator; a downgrade keeps every card and shop, it only stops growth.",
    )

    _loyalty_plus_pin_policy_positive = models.Constraint(
        "CHECK (loyalty_plus_pin_max_attempts >= 1 AND loyalty_plus_pin_lock_minutes >= 1)",
        "A PIN locks after at least one wrong attempt, for at least one minute.",
    )

    @api.constrains("loyalty_plus_cross_location")
    def _check_loyalty_plus_cross_location(self):
        # Switching cross-location on is refused while a customer still holds several cards
        # of this merchant: the unique index behind it could not be built.
        for company in self.filtered("loyalty_plus_cross_location"):
            groups = (
                self.env["loyalty_plus.card"]
                .with_context(active_test=False)
                ._read_group(
                    [("company_id", "=", company.id)],
                    groupby=["partner_id"],
                    aggregates=["__count"],
                    having=[("__count", ">", 1)],
                )
            )
            if groups:
                raise ValidationError(
                    self.env._(
                        "%(count)s customers of %(merchant)s hold a card in several shops: "
                        "merge or archive those cards before making cards valid in every shop.",
                        count=len(groups),
                        merchant=company.name,
                    )
                )

    def _loyalty_plus_merchant(self):
        """The merchant (root company) of this shop. On the hot path of every till operation:
        cached per worker (companies are wide rows, and ``root_id`` fetches all of them)."""
        self.ensure_one()
        return self.browse(self._loyalty_plus_merchant_id()) if self.id else self

    @tools.ormcache("self.id")
    def _loyalty_plus_merchant_id(self):
        parent_path = self.sudo().with_context(prefetch_fields=False).parent_path
        return int(parent_path.split("/", 1)[0]) if parent_path else self.id

    def _loyalty_plus_phone_country(self):
        """The country whose numbering plan reads the phone numbers of this shop's customers: the
        merchant's (cached: every lookup by phone needs it)."""
        self.ensure_one()
        return self.env["res.country"].browse(self._loyalty_plus_phone_country_id(self.id))

    @tools.ormcache("company_id")
    def _loyalty_plus_phone_country_id(self, company_id):
        shop = self.sudo().browse(company_id)
        return shop._loyalty_plus_merchant().country_id.id or shop.country_id.id or False

    def _loyalty_plus_get_name(self):
        """The shop's name as the cards show it (cached: every till operation shows it)."""
        self.ensure_one()
        return self._loyalty_plus_name(self.id, self.env.lang)

    @tools.ormcache("company_id", "lang")
    def _loyalty_plus_name(self, company_id, lang):
        return self.sudo().browse(company_id).with_context(prefetch_fields=False, lang=lang).name

    @api.model_create_multi
    def create(self, vals_list):
        names_by_merchant = {}
        for vals in vals_list:
            if vals.get("parent_id"):
                vals.setdefault("loyalty_plus_plan_id", False)  # a shop runs on its merchant's plan
                merchant = self.browse(vals["parent_id"])._loyalty_plus_merchant()
                names_by_merchant.setdefault(merchant, []).append(vals.get("name") or "")
        for merchant, names in names_by_merchant.items():
            merchant._loyalty_plus_check_plan_shops(names)
        return super().create(vals_list)

    def write(self, vals):
        if (
            "loyalty_plus_plan_id" in vals
            and not self.env.su
            and not self.env.user.has_group("loyalty_plus.group_loyalty_plus_admin")
        ):
            raise AccessError(self.env._("Only the Loyalty administrator sets a merchant's plan."))
        if vals.get("parent_id"):
            merchant = self.browse(vals["parent_id"])._loyalty_plus_merchant()
            moving = self.filtered(lambda company: company._loyalty_plus_merchant() != merchant)
            if moving:
                merchant._loyalty_plus_check_plan_shops(moving.mapped("name"))
        if {"parent_id", "name", "country_id", "loyalty_plus_plan_id"} & vals.keys():
            self.env.registry.clear_cache()  # the shops' merchants, names, phone countries and plans
        return super().write(vals)

    def _loyalty_plus_is_shop_of(self, merchant):
        """True when ``self`` is ``merchant`` or one of its branches."""
        self.ensure_one()
        return self._loyalty_plus_merchant() == merchant

    def _loyalty_plus_check_shop_of(self, merchant):
        """Refuse a shop that is neither ``merchant`` nor one of its branches."""
        if not self._loyalty_plus_is_shop_of(merchant):
            raise ValidationError(
                self.env._("%(shop)s is not a shop of %(merchant)s.", shop=self.name, merchant=merchant.name)
            )

    # ------------------------------------------------------------------
    # The merchant's plan: the engine's checks of what it includes; every caller (till, website,
    # API, backend) goes through these, they raise ``plan_limit``.
    # ------------------------------------------------------------------

    @api.model
    def _loyalty_plus_assign_missing_plans(self):
        """Merchants that were there before plans existed keep everything they do: Enterprise
        (the administrator then sets their real plan). Run at every install and update."""
        enterprise = self.env.ref("loyalty_plus.plan_enterprise", raise_if_not_found=False)
        if enterprise:
            self.sudo().with_context(active_test=False).search(
                [("loyalty_plus_plan_id", "=", False), ("parent_id", "=", False)]
            ).write({"loyalty_plus_plan_id": enterprise.id})

    def _loyalty_plus_get_plan(self):
        """The plan of this shop's merchant (empty: none set, nothing is limited)."""
        self.ensure_one()
        return self._loyalty_plus_merchant().sudo().loyalty_plus_plan_id

    def _loyalty_plus_has_plan_feature(self, feature):
        """Whether the plan of this shop's merchant includes ``feature`` (no plan: everything)."""
        self.ensure_one()
        excluded = self._loyalty_plus_plan_exclusions(self._loyalty_plus_merchant().id)
        return feature not in excluded

    @tools.ormcache("merchant_id")
    def _loyalty_plus_plan_exclusions(self, merchant_id):
        """The features the merchant's plan leaves out, cached per worker: every earning asks
        (tiers); a change of a plan or of a merchant's plan clears it."""
        plan = self.sudo().browse(merchant_id).loyalty_plus_plan_id
        return frozenset(feature for feature in PLAN_FEATURES if plan and not plan._includes(feature))

    def _loyalty_plus_check_plan_feature(self, feature):
        """Refuse (``plan_limit``) when the plan of this shop's merchant excludes ``feature`` (a
        key of ``PLAN_FEATURES``: "tiers", "api", "analytics"...), naming the plan that includes it."""
        self.ensure_one()
        if self._loyalty_plus_has_plan_feature(feature):
            return
        plan = self._loyalty_plus_get_plan()
        upgrade = plan._get_upgrade(feature=feature)
        label = plan._get_feature_label(feature)
        merchant = self._loyalty_plus_merchant()
        if upgrade:
            message = self.env._(
                "%(feature)s: not included in the %(plan)s plan of %(merchant)s. The %(upgrade)s plan includes it.",
                feature=label,
                plan=plan.name,
                merchant=merchant.name,
                upgrade=upgrade.name,
            )
        else:
            message = self.env._(
                "%(feature)s: not included in the %(plan)s plan of %(merchant)s.",
                feature=label,
                plan=plan.name,
                merchant=merchant.name,
            )
        raise LoyaltyPlusRefusal("plan_limit", message, feature=feature, plan=plan.name, upgrade=upgrade.name or None)

    @api.model
    def _loyalty_plus_action_advanced_report(self, xmlid):
        """The window action ``xmlid`` of an advanced report (cohorts, churn, liability, fraud
        watch, the dashboard), refused when the plan of the current shop's merchant has no
        analytics: the Reporting menu opens these reports through server actions calling this."""
        self.env.company._loyalty_plus_check_plan_feature("analytics")
        return self.env["ir.actions.act_window"]._for_xml_id(xmlid)

    def _loyalty_plus_count_members(self):
        """Members of this merchant: customers holding an active card (of any of its shops)."""
        self.ensure_one()
        self.env["loyalty_plus.card"].flush_model(["partner_id", "company_id", "active"])
        rows = self.env.execute_query(
            SQL(
                "SELECT count(DISTINCT partner_id) FROM loyalty_plus_card WHERE company_id = %s AND active",
                self.id,
            )
        )
        return rows[0][0]

    def _loyalty_plus_check_plan_members(self, partners):
        """Refuse (``plan_limit``) the cards of ``partners`` for this merchant when they would take
        its members beyond its plan's limit. Customers already holding an active card of the
        merchant (in another shop) are members already."""
        self.ensure_one()
        plan = self.sudo().loyalty_plus_plan_id
        if not plan or not plan.max_members:
            return
        already = (
            self.env["loyalty_plus.card"]
            .sudo()
            .search_fetch([("company_id", "=", self.id), ("partner_id", "in", partners.ids)], ["partner_id"])
            .partner_id
        )
        newcomers = partners - already
        if not newcomers:
            return
        # Two enrollments for the last place: both write the merchant's row, so the second waits
        # for the first and, its snapshot being older, fails with a serialization error; Odoo
        # runs its request again, which counts the first one's member.
        self.env.cr.execute(
            SQL("UPDATE res_company SET loyalty_plus_plan_id = loyalty_plus_plan_id WHERE id = %s", self.id)
        )
        count = self._loyalty_plus_count_members()
        if count + len(newcomers) <= plan.max_members:
            return
        upgrade = plan._get_upgrade(members=plan.max_members)
        if upgrade:
            message = self.env._(
                "%(merchant)s has reached the %(limit)s members of its %(plan)s plan: the %(upgrade)s plan "
                "welcomes more members.",
                merchant=self.name,
                limit=plan.max_members,
                plan=plan.name,
                upgrade=upgrade.name,
            )
        else:
            message = self.env._(
                "%(merchant)s has reached the %(limit)s members of its %(plan)s plan: no new member can join.",
                merchant=self.name,
                limit=plan.max_members,
                plan=plan.name,
            )
        raise LoyaltyPlusRefusal(
            "plan_limit",
            message,
            feature="members",
            plan=plan.name,
            upgrade=upgrade.name or None,
            limit=plan.max_members,
        )

    def _loyalty_plus_check_plan_shops(self, new_shop_names):
        """Refuse (``plan_limit``) new shops (``new_shop_names``) beyond the plan of this merchant
        (itself and its branches count), once it runs a Loyalty+ program: a company that runs
        none is no Loyalty+ merchant."""
        self.ensure_one()
        plan = self.sudo().loyalty_plus_plan_id
        if not plan or not plan.max_shops:
            return
        if (
            not self.env["loyalty_plus.program"]
            .sudo()
            .with_context(active_test=False)
            .search_count([("company_id", "=", self.id)], limit=1)
        ):
            return
        shops = self.sudo().search_count(Domain("id", "child_of", self.id)) + len(new_shop_names)
        if shops <= plan.max_shops:
            return
        upgrade = plan._get_upgrade(shops=plan.max_shops)
        if upgrade:
            message = self.env._(
                "The %(plan)s plan of %(merchant)s includes %(limit)s shop(s): %(shop)s cannot open. The "
                "%(upgrade)s plan includes more shops.",
                plan=plan.name,
                merchant=self.name,
                limit=plan.max_shops,
                shop=", ".join(new_shop_names),
                upgrade=upgrade.name,
            )
        else:
            message = self.env._(
                "The %(plan)s plan of %(merchant)s includes %(limit)s shop(s): %(shop)s cannot open.",
                plan=plan.name,
                merchant=self.name,
                limit=plan.max_shops,
                shop=", ".join(new_shop_names),
            )
        raise LoyaltyPlusRefusal(
            "plan_limit", message, feature="shops", plan=plan.name, upgrade=upgrade.name or None, limit=plan.max_shops
        )
