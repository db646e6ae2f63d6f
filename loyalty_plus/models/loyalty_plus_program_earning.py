import math
from datetime import datetime, time

import pytz

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal
from .loyalty_plus_campaign import EARNING_CAMPAIGN_TYPES
from .loyalty_plus_program import _column_values, _insert_values

EPSILON = 1e-9  # 10.00 * 1.1 is 11 points, not 10.999…
# ledger rows an order's earning writes: a replayed order finds them
ORDER_EARNING_TYPES = ("points_earned", "bonus", "stamp_earned", "stamp_progress")


def _matches(facts, product_id, categories):
    """Whether a line of ``product_id`` (its category and parents: ``categories``) is one the
    rule or campaign ``facts`` is about (no product and no category: every line)."""
    if not (facts["product_ids"] or facts["category_ids"]):
        return True
    return product_id in facts["product_ids"] or bool(facts["category_ids"] & categories)


class LoyaltyPlusProgram(models.Model):
    _inherit = "loyalty_plus.program"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # What an order earns: one computation for the till's preview, the order's sync and the API
    # ------------------------------------------------------------------

    @tools.ormcache("program_id", "lang")
    def _get_earning_catalog(self, program_id, lang):
        """The program's active earning rules and campaigns as plain values, the merchant's time
        zone and its currency's columns (the rounding of every amount): every earning reads them,
        they change seldom (a change of a program, rule or campaign clears every worker's copy)."""
        env = self.env(context=dict(self.env.context, lang=lang, active_test=True), su=True)
        program = env["loyalty_plus.program"].with_context(active_test=False).browse(program_id)
        rules = env["loyalty_plus.earning_rule"].search([("program_id", "=", program_id)])
        campaigns = env["loyalty_plus.campaign"].search([("program_id", "=", program_id)])
        return (
            rules._get_catalog_facts(),
            campaigns._get_catalog_facts(),
            program.company_id.partner_id.tz or "UTC",
            _column_values(program.currency_id),
        )

    def _normalize_lines(self, lines, currency=None):
        """``lines`` of an order as ``[{"product_id", "qty", "price_incl", "price_excl"}]`` in the
        program's currency (line totals after discounts), or ``validation_error``."""
        self.ensure_one()
        if not isinstance(lines, (list, tuple)):
            raise LoyaltyPlusRefusal("validation_error", self.env._("The order lines must be a list."))
        convert = currency and currency != self.currency_id
        normalized = []
        for line in lines:
            try:
                product_id = int(line.get("product_id") or 0)
                qty = float(line.get("qty") or 0)
                price_incl = float(line.get("price_incl") or 0)
                price_excl = float(line.get("price_excl", price_incl) or 0)
            except (AttributeError, TypeError, ValueError):
                raise LoyaltyPlusRefusal(
                    "validation_error", self.env._("Each order line needs a product, a quantity and its prices.")
                ) from None
            if not all(map(math.isfinite, (qty, price_incl, price_excl))):
                raise LoyaltyPlusRefusal("validation_error", self.env._("The order lines hold an invalid number."))
            if convert:
                date = fields.Date.context_today(self)
                price_incl = currency._convert(price_incl, self.currency_id, self.company_id, date)
                price_excl = currency._convert(price_excl, self.currency_id, self.company_id, date)
            normalized.append(
                {"product_id": product_id, "qty": qty, "price_incl": price_incl, "price_excl": price_excl}
            )
        return normalized

    def _get_product_facts(self, product_ids):
        """``{product_id: (excluded, categories)}``: whether the product earns nothing, and its
        category with the categories above it. One query for the order."""
        if not product_ids:
            return {}
        self.env["product.template"].flush_model(["lp_earning_excluded", "categ_id"])
        self.env["product.category"].flush_model(["parent_path"])
        self.env.cr.execute(
            SQL(
                """SELECT pp.id, pt.lp_earning_excluded, pc.parent_path
                     FROM product_product pp
                     JOIN product_template pt ON pt.id = pp.product_tmpl_id
                LEFT JOIN product_category pc ON pc.id = pt.categ_id
                    WHERE pp.id IN %s""",
                tuple(product_ids),
            )
        )
        return {
            product_id: (bool(excluded), frozenset(int(part) for part in (path or "").split("/") if part))
            for product_id, excluded, path in self.env.cr.fetchall()
        }

    def _prepare_order(self, card, lines, shop, now=None):
        """What the rules and campaigns read of an order of ``lines`` (normalized) for ``card`` in
        ``shop``: the lines that earn, as ``(product_id, categories, qty, amount)`` with the
        amount on the program's tax base, their total, the time, the card's tier."""
        self.ensure_one()
        program = self.sudo()
        rules, campaigns, tz_name, currency_values = program._get_earning_catalog(program.id, self.env.lang or "en_US")
        _insert_values(program.currency_id, currency_values)
        facts = program._get_product_facts({line["product_id"] for line in lines if line["product_id"]})
        price_key = "price_incl" if program.earning_tax_base == "included" else "price_excl"
        eligible = []
        for line in lines:
            excluded, categories = facts.get(line["product_id"], (False, frozenset()))
            if excluded or line["qty"] <= 0 or line[price_key] <= 0:
                continue  # gift cards, deposits, tips; returns and free items earn nothing
            eligible.append((line["product_id"], categories, line["qty"], line[price_key]))
        now = now or fields.Datetime.now()
        return {
            "program": program,
            "card": card.sudo(),
            "shop_id": shop.id,
            "tier_id": card.sudo().tier_id.id,
            "now": now,
            "tz": pytz.timezone(tz_name),
            "local": pytz.utc.localize(now).astimezone(pytz.timezone(tz_name)).replace(tzinfo=None),
            "lines": eligible,
            "base": program.currency_id.round(sum(line[3] for line in eligible)),
            "rules": rules,
            "campaigns": campaigns,
        }

    def _get_campaign_refusal(self, facts, order, conditions=True):
        """Why the campaign of ``facts`` does not apply to ``order`` (``_prepare_order``): "window"
        (dates, weekdays, hours), "shop", "tier", "conditions", "first_visit", "cap"; or None.
        Without ``conditions``, only whether it runs here and now for this member."""
        now, local = order["now"], order["local"]
        if (facts["date_start"] and now < facts["date_start"]) or (facts["date_end"] and now > facts["date_end"]):
            return "window"
        if facts["weekdays"] and local.weekday() not in facts["weekdays"]:
            return "window"
        if facts["hour_from"] or facts["hour_to"]:
            hour = local.hour + local.minute / 60
            if not facts["hour_from"] <= hour < facts["hour_to"]:
                return "window"
        if facts["shop_ids"] and order["shop_id"] not in facts["shop_ids"]:
            return "shop"
        if facts["tier_ids"] and order["tier_id"] not in facts["tier_ids"]:
            return "tier"
        if not conditions:
            return None
        if not self._meets_campaign_conditions(facts, order):
            return "conditions"
        card = order["card"]
        if facts["type"] == "first_visit_month":
            if "visited_this_month" not in order:  # one query for all the order's campaigns
                month_start = datetime.combine(order["local"].date().replace(day=1), time.min)
                since = order["tz"].localize(month_start).astimezone(pytz.utc).replace(tzinfo=None)
                self.env["loyalty_plus.transaction"].flush_model()
                self.env.cr.execute(
                    SQL(
                        """SELECT 1 FROM loyalty_plus_transaction
                            WHERE card_id = %s AND create_date >= %s AND transaction_type IN %s LIMIT 1""",
                        card.id,
                        since,
                        ORDER_EARNING_TYPES,
                    )
                )
                order["visited_this_month"] = bool(self.env.cr.fetchone())
            if order["visited_this_month"]:
                return "first_visit"
        if facts["max_uses"] or facts["max_uses_per_member"]:
            if "campaign_uses" not in order:  # the uses of all the order's capped campaigns at once
                capped = tuple(c["id"] for c in order["campaigns"] if c["max_uses"] or c["max_uses_per_member"])
                self.env["loyalty_plus.transaction"].flush_model()
                self.env.cr.execute(
                    SQL(
                        """SELECT c.id, coalesce(c.use_count, 0),
                                  (SELECT count(DISTINCT coalesce(t.order_ref, t.create_date::text))
                                     FROM loyalty_plus_transaction t
                                    WHERE t.campaign_id = c.id AND t.card_id = %s AND t.origin_transaction_id IS NULL
                                      -- a use given back: a promotion's by its give-back row, an
                                      -- earning campaign's by the voids that took its row back in full
                                      AND CASE WHEN t.transaction_type = 'promotion'
                                          THEN NOT EXISTS (SELECT 1 FROM loyalty_plus_transaction r
                                                            WHERE r.origin_transaction_id = t.id
                                                              AND r.transaction_type = 'promotion')
                                          ELSE t.points_delta + t.stamps_delta > (
                                               SELECT coalesce(-sum(r.points_delta + r.stamps_delta), 0)
                                                 FROM loyalty_plus_transaction r
                                                WHERE r.origin_transaction_id = t.id)
                                      END)
                             FROM loyalty_plus_campaign c WHERE c.id IN %s""",
                        card.id,
                        capped or (facts["id"],),
                    )
                )
                order["campaign_uses"] = {row[0]: row[1:] for row in self.env.cr.fetchall()}
            used, used_by_member = order["campaign_uses"].get(facts["id"], (0, 0))
            if (facts["max_uses"] and used >= facts["max_uses"]) or (
                facts["max_uses_per_member"] and used_by_member >= facts["max_uses_per_member"]
            ):
                return "cap"
        return None

    def _meets_campaign_conditions(self, facts, order):
        """Whether the lines of ``order`` meet what the campaign of ``facts`` asks of an order:
        its minimum spend, one of its products or categories."""
        currency = order["program"].currency_id
        if facts["minimum_amount"] and currency.compare_amounts(order["base"], facts["minimum_amount"]) < 0:
            return False
        return not (facts["product_ids"] or facts["category_ids"]) or any(
            _matches(facts, product_id, categories) for product_id, categories, _qty, _amount in order["lines"]
        )

    def _get_active_campaigns(self, shop, now=None, card=None):
        """The campaigns running now in ``shop`` (for the tier of ``card``, when given): what the
        till shows, whatever the order holds."""
        self.ensure_one()
        program = self.sudo()
        order = {
            **program._prepare_order(card or self.env["loyalty_plus.card"], [], shop, now),
            "tier_id": card.sudo().tier_id.id if card else False,
        }
        if not card:
            order["campaigns"] = tuple(c for c in order["campaigns"] if not c["tier_ids"])
        ids = [c["id"] for c in order["campaigns"] if not self._get_campaign_refusal(c, order, conditions=False)]
        return self.env["loyalty_plus.campaign"].browse(ids)

    def _compute_earnings(self, card, lines, shop, now=None, include_stamps=True, stamps_approved=True):
        """What an order of ``lines`` (normalized) earns on ``card`` in ``shop`` at ``now``, by the
        program's earning rules and campaigns: the till's preview and the order's sync read the
        same answer (see the contract in ``_earn_order``). Reads, never writes."""
        self.ensure_one()
        order = self._prepare_order(card, lines, shop, now)
        program, card_sudo = order["program"], order["card"]
        currency = program.currency_id
        base = order["base"]
        effects, notes = [], []

        # points: the program's rate (or a rule's) on each line, the rules' multipliers on theirs
        points_ok = program._order_earns_points(order)
        points_raw = 0.0
        if points_ok:
            tier_factor = (card_sudo.tier_id.multiplier or 1.0) if card_sudo.tier_id else 1.0
            by_rule, by_multiplier = program._sum_line_points(order, tier_factor)
            rule_names = {r["id"]: r["name"] for r in order["rules"]}
            for rule_id, (raw, amount) in [*by_rule.items(), *by_multiplier.items()]:
                effects.append(
                    {
                        "transaction_type": "points_earned",
                        "earning_rule_id": rule_id,
                        "campaign_id": False,
                        "raw": raw,
                        "amount": currency.round(amount),
                        "stamps": 0,
                        "bank_delta": 0.0,
                        "label": rule_names.get(rule_id) or self.env._("Points per euro"),
                    }
                )
                points_raw += raw

        # stamps: per visit, per item, per amount spent (the rest carried in the card's spend bank)
        rule_stamps = 0
        spend_step = 0.0
        if include_stamps and program.has_stamps:
            for rule in order["rules"]:
                stamps, bank_delta, amount = 0, 0.0, 0.0
                if rule["type"] == "stamps_visit":
                    if base > 0 and currency.compare_amounts(base, rule["minimum_amount"]) >= 0:
                        stamps, amount = rule["stamps"], base
                elif rule["type"] == "stamps_item":
                    qty = sum(math.floor(q + EPSILON) for p, c, q, _a in order["lines"] if _matches(rule, p, c))
                    stamps = qty * rule["stamps"]
                    amount = sum(a for p, c, _q, a in order["lines"] if _matches(rule, p, c))
                elif rule["type"] == "stamps_spend" and rule["spend_step"] > 0:
                    spend_step = rule["spend_step"]
                    amount = sum(a for p, c, _q, a in order["lines"] if _matches(rule, p, c))
                    bank = card_sudo.stamp_bank + amount
                    count = math.floor(bank / spend_step + EPSILON)
                    stamps = count * rule["stamps"]
                    bank_delta = currency.round(bank - count * spend_step - card_sudo.stamp_bank)
                else:
                    continue
                if stamps or bank_delta:
                    effects.append(
                        {
                            "transaction_type": "stamp_earned",
                            "earning_rule_id": rule["id"],
                            "campaign_id": False,
                            "raw": 0.0,
                            "amount": currency.round(amount),
                            "stamps": stamps,
                            "bank_delta": bank_delta,
                            "spend_step": rule["spend_step"] if rule["type"] == "stamps_spend" else 0.0,
                            "stamps_per_step": rule["stamps"],
                            "label": rule["name"],
                        }
                    )
                    rule_stamps += stamps

        # campaigns: their bonus on what the rules gave, stacked as the program says
        offers = []
        if base > 0:
            for facts in order["campaigns"]:
                if facts["type"] not in EARNING_CAMPAIGN_TYPES:
                    continue
                bonus_raw, bonus_stamps = 0.0, 0
                if facts["type"] == "multiplier":
                    if facts["apply_to"] in ("points", "both"):
                        bonus_raw = points_raw * (facts["multiplier"] - 1)
                    if facts["apply_to"] in ("stamps", "both"):
                        bonus_stamps = math.floor(rule_stamps * (facts["multiplier"] - 1) + EPSILON)
                else:
                    bonus_raw = facts["bonus_points"] if points_ok else 0.0
                    bonus_stamps = facts["bonus_stamps"] if include_stamps and program.has_stamps else 0
                if bonus_raw <= 0 and bonus_stamps <= 0:
                    continue
                if self._get_campaign_refusal(facts, order):
                    continue
                offers.append((facts, bonus_raw, bonus_stamps))
            if program.campaign_stacking == "best" and offers:
                offers = [max(offers, key=lambda offer: (offer[1], offer[2]))]
            cap = program.campaign_bonus_cap if program.campaign_stacking == "additive" else 0
            given = 0.0
            for facts, bonus_raw, bonus_stamps in offers:
                if cap:
                    bonus_raw = max(min(bonus_raw, cap - given), 0.0)
                    given += bonus_raw
                if bonus_raw > 0:
                    effects.append(
                        {
                            "transaction_type": "bonus",
                            "earning_rule_id": False,
                            "campaign_id": facts["id"],
                            "raw": bonus_raw,
                            "amount": base,
                            "stamps": 0,
                            "bank_delta": 0.0,
                            "label": facts["name"],
                        }
                    )
                if bonus_stamps > 0:
                    effects.append(
                        {
                            "transaction_type": "stamp_earned",
                            "earning_rule_id": False,
                            "campaign_id": facts["id"],
                            "raw": 0.0,
                            "amount": base,
                            "stamps": bonus_stamps,
                            "bank_delta": 0.0,
                            "label": facts["name"],
                        }
                    )

        # the stamps' own rules: a staff member's approval, the cooldown and the daily limit
        stamps_due = sum(e["stamps"] for e in effects)
        allowed = card_sudo._get_sale_stamps_within_limits(stamps_due, order["now"], notes)
        # a PIN only for stamps the cooldown and the daily limit let through
        pin_required = bool(program.require_staff_pin and allowed)
        if allowed and not stamps_approved:
            notes.append(self.env._("No stamps: a staff PIN approves the stamps of a sale."))
            allowed = 0
        for effect in (e for e in effects if e["stamps"]):
            given = min(effect["stamps"], allowed)
            if given < effect["stamps"] and effect.get("spend_step"):
                # whole steps of the spend bank not turned into stamps stay in the bank
                per_step = max(effect["stamps_per_step"], 1)
                steps = effect["stamps"] // per_step
                given = given // per_step * per_step
                effect["bank_delta"] = currency.round(
                    effect["bank_delta"] + (steps - given // per_step) * effect["spend_step"]
                )
            effect["stamps"] = given
            allowed -= given

        # whole points, the fraction carried to the next purchase
        carry = card_sudo.points_fraction
        for effect in (e for e in effects if e["raw"]):
            value = effect["raw"] + carry
            effect["points"] = math.floor(value + EPSILON)
            carry = value - effect["points"]
        for effect in effects:
            effect.setdefault("points", 0)
            if effect["transaction_type"] == "stamp_earned" and not effect["stamps"]:
                effect["transaction_type"] = "stamp_progress"
        # a purchase below a whole point is still written: its fraction carries to the next one
        effects = [e for e in effects if e["points"] or e["stamps"] or e["bank_delta"] or e["raw"]]

        stamps = sum(e["stamps"] for e in effects)
        points = sum(e["points"] for e in effects)
        bank_after = currency.round(card_sudo.stamp_bank + sum(e["bank_delta"] for e in effects))
        campaigns = {e["campaign_id"]: e["label"] for e in effects if e["campaign_id"]}
        return {
            "base": base,
            "stamps": stamps,
            "points": points,
            "points_fraction": min(max(carry, 0.0), 1 - EPSILON) if points_ok else card_sudo.points_fraction,
            "stamp_bank": bank_after,
            "spend_step": spend_step,
            "to_next_stamp": currency.round(spend_step - bank_after) if spend_step else 0.0,
            "effects": [
                {key: value for key, value in effect.items() if key not in ("raw", "spend_step", "stamps_per_step")}
                for effect in effects
            ],
            "campaigns": [{"id": campaign_id, "name": name} for campaign_id, name in campaigns.items()],
            "notes": notes,
            "pin_required": pin_required,
            "summary": self._get_earnings_summary(stamps, points, list(campaigns.values())),
        }

    def _order_earns_points(self, order):
        """Whether ``order`` (``_prepare_order``) earns points: a points program, something that
        earns, the program's minimum purchase reached."""
        program, base = order["program"], order["base"]
        return bool(
            program.has_points
            and base > 0
            and not (
                program.minimum_purchase and program.currency_id.compare_amounts(base, program.minimum_purchase) < 0
            )
        )

    def _sum_line_points(self, order, tier_factor=1.0):
        """The raw points of the lines of ``order`` (``_prepare_order``), summed per row of the
        ledger: ``({rate rule id or False: [raw, amount]}, {multiplier rule id: [extra raw, amount]})``.
        Each line earns at the rate of the first "points per euro" rule about it (else the
        program's), and its best multiplier rule adds to that."""
        program = order["program"]
        by_rule, by_multiplier = {}, {}
        for product_id, categories, _qty, amount in order["lines"]:
            rate_rule = next(
                (r for r in order["rules"] if r["type"] == "points_spend" and _matches(r, product_id, categories)),
                None,
            )
            rate = rate_rule["points_per_euro"] if rate_rule else program.points_per_euro
            raw = amount * rate * tier_factor
            key = rate_rule["id"] if rate_rule else False
            sums = by_rule.setdefault(key, [0.0, 0.0])
            sums[0] += raw
            sums[1] += amount
            multiplier = max(
                (r for r in order["rules"] if r["type"] == "points_multiplier" and _matches(r, product_id, categories)),
                key=lambda r: r["multiplier"],
                default=None,
            )
            if multiplier and multiplier["multiplier"] != 1:
                sums = by_multiplier.setdefault(multiplier["id"], [0.0, 0.0])
                sums[0] += raw * (multiplier["multiplier"] - 1)
                sums[1] += amount
        return by_rule, by_multiplier

    def _get_points_kept(self, remaining, rows):
        """What each points row of an order should still hold once the order keeps only the
        lines of ``remaining`` (``_prepare_order``), as ``{row id: amount}`` on the row's amount
        (the spend its points stand for), for the order's points ``rows`` as earned.

        The lines are matched to the rows by the earning's own computation: a rule's row (and the
        program's rate's) keeps the amount of the remaining lines it counts, so returning an item
        takes back what that item earned and nothing another rule gave on another item; a
        campaign's multiplier keeps the share of the order's points that remains; a campaign's
        fixed bonus stays whole while what remains meets its conditions (minimum spend,
        products). Nothing stays when what remains would earn no points (nothing left, below the
        program's minimum purchase). On the row's amount, not in points: a refund replayed asks
        for nothing more, and a tier or a rate changed since the sale changes nothing."""
        self.ensure_one()
        if not self._order_earns_points(remaining):
            return dict.fromkeys(rows.ids, 0.0)
        kept = {}
        known = {rule["id"] for rule in remaining["rules"]} | {False}
        lines = {key: amount for sums in self._sum_line_points(remaining) for key, (_raw, amount) in sums.items()}
        rule_rows = rows.filtered(lambda row: not row.campaign_id)
        # a rule archived since the sale matches no line: its row follows the order's amount
        rate_rows = rule_rows.filtered(lambda row: row.earning_rule_id.rule_type in (False, "points_spend"))
        sold = sum(rate_rows.mapped("amount"))
        for row in rule_rows:
            rule_id = row.earning_rule_id.id
            if rule_id in known:
                kept[row.id] = lines.get(rule_id, 0.0)
            else:
                kept[row.id] = row.amount * remaining["base"] / sold if sold else 0.0
        # the share of the order's points (every rule's row) that remains
        points = sum(rule_rows.mapped("points_delta"))
        kept_points = sum(row.points_delta * min(kept[row.id] / row.amount, 1.0) for row in rule_rows)
        campaigns = {facts["id"]: facts for facts in remaining["campaigns"]}
        for row in rows - rule_rows:
            # a campaign archived since the sale: its own values
            facts = campaigns.get(row.campaign_id.id) or row.campaign_id.sudo()._get_catalog_facts()[0]
            if not self._meets_campaign_conditions(facts, remaining):
                kept[row.id] = 0.0
            elif facts["type"] == "multiplier":
                share = kept_points / points if points else remaining["base"] / row.amount
                kept[row.id] = row.amount * min(share, 1.0)
            else:
                kept[row.id] = row.amount
        return kept

    def _get_earnings_summary(self, stamps, points, campaign_names):
        """ "Earns 2 stamps and 24 points · Double points Tuesday"."""
        if stamps and points:
            text = self.env._("Earns %(stamps)s stamps and %(points)s points", stamps=stamps, points=points)
            if stamps == 1:
                text = self.env._("Earns 1 stamp and %(points)s points", points=points)
        elif stamps:
            text = self.env._("Earns 1 stamp") if stamps == 1 else self.env._("Earns %(stamps)s stamps", stamps=stamps)
        elif points:
            text = self.env._("Earns %(points)s points", points=points)
        else:
            text = self.env._("Earns nothing")
        return " · ".join([text, *campaign_names])

    @api.model
    def _get_order_earning_types(self):
        return ORDER_EARNING_TYPES

    def _get_spend_step(self):
        """The amount of a stamp of the program's "stamps per amount spent" rule (0: none)."""
        self.ensure_one()
        rules = self._get_earning_catalog(self.id, self.env.lang or "en_US")[0]
        return next((rule["spend_step"] for rule in rules if rule["type"] == "stamps_spend"), 0.0)

    def _line_matches(self, facts, product_id, categories):
        """Whether a line is one the rule or campaign of ``facts`` is about (see ``_matches``)."""
        return _matches(facts, product_id, categories)
