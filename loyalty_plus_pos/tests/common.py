import copy
import uuid
from contextlib import contextmanager
from unittest.mock import patch

from odoo import fields
from odoo.tests.test_cursor import TestCursor
from odoo.tools import SQL

from odoo.addons.loyalty_plus.models.loyalty_plus_staff_pin import LoyaltyPlusStaffPin
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

LEA_CARD = "352000000013"
RICH_CARD = "352000000021"


class LoyaltyPlusPosCommon(TestPointOfSaleHttpCommon):
    """The test POS of point_of_sale, its company running a hybrid program."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.group_ids += env.ref("loyalty_plus.group_loyalty_plus_admin")
        cls.shop = cls.main_pos_config.company_id
        cls.shop.write(
            {
                "loyalty_plus_pin_max_attempts": 3,
                "loyalty_plus_cross_location": True,
                # every feature: the plans' limits have tests of their own
                "loyalty_plus_plan_id": env.ref("loyalty_plus.plan_enterprise").id,
            }
        )
        cls.program = env["loyalty_plus.program"].create(
            {
                "name": "Test Rewards",
                "company_id": cls.shop.id,
                "program_type": "hybrid",
                "stamps_target": 3,
                "stamps_reward_description": "Free coffee",
                "points_per_euro": 1,
                "minimum_purchase": 0,
                "minimum_redemption_points": 0,
                "welcome_bonus_points": 0,
                "stamp_cooldown_minutes": 15,
                "max_stamps_per_day": 5,
                "require_staff_pin": True,
            }
        )
        # stamps by the Stamp button only: the tests of sales that earn stamps add their rules
        cls.program.earning_rule_ids.unlink()
        cls.reward = env["loyalty_plus.reward"].create(
            {
                "name": "Coffee voucher",
                "program_id": cls.program.id,
                "points_cost": 50,
                "reward_kind": "amount",
                "discount_amount": 2.0,
            }
        )
        # kept for later: the till prints its code, the customer brings it back
        cls.voucher_reward = env["loyalty_plus.reward"].create(
            {
                "name": "Cake voucher",
                "program_id": cls.program.id,
                "points_cost": 30,
                "reward_kind": "voucher",
                "discount_amount": 5.0,
            }
        )
        cls.tier = env["loyalty_plus.tier"].create(
            {"name": "Gold", "program_id": cls.program.id, "threshold_points": 10000, "multiplier": 2}
        )
        cls.staff = env["loyalty_plus.staff_pin"].create(
            {"name": "Anna", "program_id": cls.program.id, "shop_id": cls.shop.id, "new_pin": "1234"}
        )
        cls.lea = env["res.partner"].create({"name": "Lea Member", "email": "lea.member@example.com"})
        cls.rich = env["res.partner"].create({"name": "Rich Member", "email": "rich.member@example.com"})
        Card = env["loyalty_plus.card"]
        cls.card = Card.create(
            {"partner_id": cls.lea.id, "program_id": cls.program.id, "shop_id": cls.shop.id, "card_number": LEA_CARD}
        )
        cls.rich_card = Card.create(
            {"partner_id": cls.rich.id, "program_id": cls.program.id, "shop_id": cls.shop.id, "card_number": RICH_CARD}
        )
        cls.rich_card._apply_ledger(
            {
                "transaction_type": "points_adjusted",
                "points_delta": 130,
                "shop_id": cls.shop.id,
                "note": "test",
                "admin_user_id": env.user.id,
            }
        )
        cls.bread = env["product.product"].create(
            {
                "name": "LP Bread",
                "available_in_pos": True,
                "list_price": 20,
                "taxes_id": [fields.Command.clear()],
                "pos_categ_ids": [fields.Command.set(cls.main_pos_config.iface_available_categ_ids[:1].ids)],
            }
        )
        cls.discount_product = env.ref("loyalty_plus_pos.product_loyalty_plus_reward")
        # what a full stamp card gives; not sold at the till, loaded for the reward line
        cls.coffee = env["product.product"].create(
            {"name": "LP Coffee", "available_in_pos": False, "list_price": 2.5, "taxes_id": [fields.Command.clear()]}
        )
        cls.program.stamps_reward_product_id = cls.coffee

    # ------------------------------------------------------------------
    # Orders as the POS sends them
    # ------------------------------------------------------------------

    def _line(self, qty=1, price=20.0, **extra):
        return {
            "product_id": self.bread.id,
            "qty": qty,
            "price_unit": price,
            "price_subtotal": price * qty,
            "price_subtotal_incl": price * qty,
            "discount": 0,
            "tax_ids": [],
            "pack_lot_ids": [],
            "uuid": str(uuid.uuid4()),
            **extra,
        }

    def _reward_line(self, card, reward=None, **extra):
        reward = reward or self.reward
        return self._line(
            price=-reward.discount_amount,
            product_id=self.discount_product.id,
            lp_reward_id=reward.id,
            lp_card_id=card.id,
            full_product_name=reward.name,
            **extra,
        )

    def _voucher_line(self, card, **extra):
        return self._line(
            price=0,
            product_id=self.discount_product.id,
            lp_reward_id=self.voucher_reward.id,
            lp_card_id=card.id,
            full_product_name=self.voucher_reward.name,
            **extra,
        )

    def _voucher_code_line(self, code, amount=5.0, **extra):
        return self._line(price=-amount, product_id=self.discount_product.id, lp_voucher_code=code, **extra)

    def _stamp_line(self, card, grant, staff=None, **extra):
        return self._line(
            price=0,
            product_id=self.coffee.id,
            lp_stamp_reward=True,
            lp_card_id=card.id,
            lp_staff_pin_id=(staff or self.staff).id,
            lp_grant=grant,
            full_product_name="Free coffee",
            **extra,
        )

    def _approve_stamp_reward(self, card, order_data):
        """The server's approval of a stamp reward on this order, as the till asks it (Anna's PIN)."""
        return (
            self.env["loyalty_plus.card"]
            .with_user(self.pos_user)
            .browse(card.id)
            .lp_authorize_stamp_reward(
                self.main_pos_config.id, order_data["uuid"], staff_pin_id=self.staff.id, pin="1234"
            )
        )

    def _give_stamps(self, card, count):
        for _stamp in range(count):
            card._apply_ledger({"transaction_type": "stamp_earned", "stamps_delta": 1, "shop_id": self.shop.id})

    def _order(self, lines, card=None, partner=None):
        session = self.main_pos_config.current_session_id
        total = sum(line["price_subtotal_incl"] for line in lines)
        order_uuid = str(uuid.uuid4())
        return {
            "amount_paid": total,
            "amount_return": 0,
            "amount_tax": 0,
            "amount_total": total,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "fiscal_position_id": False,
            "pricelist_id": self.main_pos_config.pricelist_id.id,
            "name": f"Order {order_uuid}",
            "lines": [(0, 0, line) for line in lines],
            "partner_id": (partner or (card.partner_id if card else self.env["res.partner"])).id,
            "session_id": session.id,
            "payment_ids": [
                (
                    0,
                    0,
                    {
                        "amount": total,
                        "name": fields.Datetime.to_string(fields.Datetime.now()),
                        "payment_method_id": self.bank_payment_method.id,
                    },
                )
            ],
            "uuid": order_uuid,
            "user_id": self.pos_user.id,
            "to_invoice": False,
            "state": "paid",
            "lp_card_id": card.id if card else False,
        }

    @contextmanager
    def _pin_attempts_kept(self):
        """Keep the wrong PINs typed through HTTP requests in this test.

        The engine writes a PIN attempt on a cursor of its own, so that it counts although the
        refusal rolls the request back. In an HttpCase every cursor is a savepoint of the test's
        one transaction, and the request's rollback takes the attempt with it: replay it on the
        test's transaction once the request has rolled back, as the committed attempt would stay.
        """
        record_attempt = LoyaltyPlusStaffPin._record_attempt

        def _record_attempt(staff, assignments, now):
            row = record_attempt(staff, assignments, now)
            cr = staff.env.cr
            if isinstance(cr, TestCursor):
                query = SQL(
                    "UPDATE loyalty_plus_staff_pin SET %s, write_date = %s, write_uid = %s WHERE id = %s",
                    assignments,
                    now,
                    staff.env.uid,
                    staff.id,
                )
                # on the test's own cursor, after the request's savepoint is gone
                cr.postrollback.add(lambda: cr._cursor.execute(query))
            return row

        with patch.object(LoyaltyPlusStaffPin, "_record_attempt", _record_attempt):
            yield

    def _jsonrpc(self, model, method, args=(), kwargs=None, timeout=60, lang=None):
        """Call ``model.method`` over HTTP as the till's browser does (``authenticate`` first;
        ``lang`` is the user's language the web client sends). Returns ``(result, error)``, the
        error as the browser gets it (``data.message``, ``data.context``)."""
        if lang:
            kwargs = {**(kwargs or {}), "context": {"lang": lang}}
        self.env.flush_all()
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
            },
            timeout=timeout,
        )
        response.raise_for_status()
        body = response.json()
        self.env.invalidate_all()
        return body.get("result"), body.get("error")

    def _sync(self, data):
        """Sync as the till does; returns the pos.order."""
        PosOrder = self.env["pos.order"].with_user(self.pos_user)
        PosOrder.sync_from_ui([copy.deepcopy(data)])
        return self.env["pos.order"].search([("uuid", "=", data["uuid"])])
