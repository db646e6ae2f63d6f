import re
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.translate import code_translations

from odoo.addons.loyalty_plus.models.loyalty_plus_rate_limit import RATE_LIMITS
from odoo.addons.loyalty_plus.tests.common import in_one_rate_window

from .common import LoyaltyPlusPosCommon

PLACEHOLDER = re.compile(r"%\(\w+\)s")
REFUSAL = "odoo.addons.loyalty_plus.exceptions.LoyaltyPlusRefusal"


@tagged("post_install", "-at_install")
class TestLoyaltyPlusPosRpc(LoyaltyPlusPosCommon):
    """The till's calls over HTTP, as a cashier with a cashier's rights only: the rate limits of
    people hold for what the cashier does by hand, never for the order sync; every refusal reaches
    the till with its code, its translated message and, where the till refreshes it, the card."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_pos_config.with_user(cls.pos_user).open_ui()
        cls.cashier = new_test_user(
            cls.env,
            login="lp_cashier",
            groups="base.group_user,point_of_sale.group_pos_user",
            company_id=cls.shop.id,
            company_ids=[cls.shop.id],
        )
        # no stock move per order: the sync of a day of orders stays a matter of seconds
        cls.pastry_class = cls.env["product.product"].create(
            {"name": "LP Pastry class", "type": "service", "list_price": 20, "taxes_id": [fields.Command.clear()]}
        )

    def _ledger(self, cards, transaction_type):
        return (
            self.env["loyalty_plus.transaction"]
            .sudo()
            .search([("card_id", "in", cards.ids), ("transaction_type", "=", transaction_type)])
        )

    def _till_order(self, qty, card=None, partner=None, **line):
        data = self._order([self._line(qty=qty, product_id=self.pastry_class.id, **line)], card=card, partner=partner)
        data["user_id"] = self.cashier.id
        return data

    # ------------------------------------------------------------------
    # The order sync of an offline till
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")  # the cashier's refused call by hand
    def test_a_day_of_offline_orders_syncs_at_once_and_earns_once_each(self):
        """200 paid member orders in one sync as one cashier: each earns once, while the same
        cashier's calls to the earning door are rate-limited in the same minute; the same sync
        again changes nothing; 50 refunds synced at once void exactly their orders' points."""
        for action in RATE_LIMITS:
            self.env["ir.config_parameter"].set_param(f"loyalty_plus.rate_limit.{action}", 1)
        members = self.env["res.partner"].create(
            [{"name": f"Sync Member {i}", "email": f"sync{i}@example.com"} for i in range(4)]
        )
        cards = self.env["loyalty_plus.card"].create(
            [{"partner_id": member.id, "program_id": self.program.id, "shop_id": self.shop.id} for member in members]
        )
        self.authenticate(self.cashier.login, self.cashier.login)
        # the limits are live for this cashier: a second earning by hand in the minute is refused
        with in_one_rate_window():
            _result, error = self._jsonrpc("loyalty_plus.card", "earn_points", [[self.card.id], 10.0])
            self.assertFalse(error)
            _result, error = self._jsonrpc("loyalty_plus.card", "earn_points", [[self.card.id], 10.0])
            self.assertEqual(error["data"]["context"]["code"], "rate_limited")

        orders = [self._till_order(1 + i % 3, card=cards[i % 4]) for i in range(200)]
        _result, error = self._jsonrpc("pos.order", "sync_from_ui", [orders], timeout=600)
        self.assertFalse(error, error and error["data"]["message"])
        synced = self.env["pos.order"].search([("uuid", "in", [o["uuid"] for o in orders])], order="id")
        self.assertEqual(len(synced), 200)
        self.assertEqual(set(synced.mapped("state")), {"paid"})
        earned = self._ledger(cards, "points_earned")
        self.assertEqual(len(earned), 200, "every order earned")
        self.assertEqual(earned.pos_order_id, synced)
        self.assertEqual(sorted(earned.mapped("order_ref")), sorted(synced.mapped("uuid")), "once each")
        self.assertEqual(set(earned.user_id.ids), set(self.cashier.ids))
        for order in synced:
            self.assertEqual((order.lp_points_earned, order.lp_message), (int(order.amount_total), False))
        expected = {card: sum(o.lp_points_earned for o in synced if o.lp_card_id == card) for card in cards}
        self.assertEqual({card: card.points_balance for card in cards}, expected)
        self.assertEqual(sum(expected.values()), 20 * sum(1 + i % 3 for i in range(200)))

        # the till did not hear back and sends the same orders again
        _result, error = self._jsonrpc("pos.order", "sync_from_ui", [orders], timeout=600)
        self.assertFalse(error, error and error["data"]["message"])
        self.assertEqual(self.env["pos.order"].search_count([("uuid", "in", [o["uuid"] for o in orders])]), 200)
        self.assertEqual(self._ledger(cards, "points_earned"), earned)
        self.assertEqual({card: card.points_balance for card in cards}, expected)

        # 50 customers bring their purchase back; the till refunds them in one sync
        returned = synced[:50]
        refunds = []
        for order in returned:
            refund = self._till_order(-order.lines.qty, partner=order.partner_id, refunded_orderline_id=order.lines.id)
            refund["lp_card_id"] = False
            refunds.append(refund)
        _result, error = self._jsonrpc("pos.order", "sync_from_ui", [refunds], timeout=600)
        self.assertFalse(error, error and error["data"]["message"])
        refund_orders = self.env["pos.order"].search([("uuid", "in", [r["uuid"] for r in refunds])])
        self.assertEqual(len(refund_orders), 50)
        voided = self._ledger(cards, "points_voided")
        self.assertEqual(len(voided), 50)
        self.assertEqual(voided.origin_transaction_id, earned.filtered(lambda row: row.pos_order_id in returned))
        for row in voided:
            self.assertEqual(row.points_delta, -row.origin_transaction_id.points_delta)
            self.assertEqual(
                row.pos_order_id.lines.refunded_orderline_id.order_id, row.origin_transaction_id.pos_order_id
            )
        for card in cards:
            expected[card] -= sum(o.lp_points_earned for o in returned if o.lp_card_id == card)
        self.assertEqual({card: card.points_balance for card in cards}, expected)

    # ------------------------------------------------------------------
    # Refusals at the till
    # ------------------------------------------------------------------

    def _message_pattern(self, module, msgid):
        """The French text of ``msgid`` as a pattern (any value in its placeholders)."""
        translated = code_translations.get_python_translations(module, "fr_FR").get(msgid)
        self.assertTrue(translated, f"no French translation of {msgid!r}")
        return "^" + ".+".join(re.escape(part) for part in PLACEHOLDER.split(translated)) + "$"

    @mute_logger("odoo.http")
    def test_every_refusal_reaches_the_till_with_its_code_and_translated_message(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.cashier.lang = "fr_FR"
        marc = self.env["loyalty_plus.staff_pin"].create(
            {"name": "Marc", "program_id": self.program.id, "shop_id": self.shop.id, "new_pin": "2345"}
        )
        config = self.main_pos_config.id
        Card = self.env["loyalty_plus.card"]

        def stamp(card, staff=None, pin=None):
            kwargs = {"staff_pin_id": staff.id if staff else False, "pin": pin or False, "shop_id": self.shop.id}
            return "loyalty_plus.card", "add_stamp", [[card.id]], kwargs

        def search(card):
            return "loyalty_plus.card", "lp_search", [card.card_number, config], {}

        def check(card, rewards):
            return "pos.order", "lp_check_redemptions", [config, card.id, rewards.ids], {}

        def archived_card():
            partner = self.env["res.partner"].create({"name": "Gone Member", "email": "gone@example.com"})
            card = Card.create({"partner_id": partner.id, "program_id": self.program.id, "shop_id": self.shop.id})
            card.action_archive()
            return card

        def card_of_another_shop():
            self.shop.loyalty_plus_cross_location = False
            branch = self.env["res.company"].create({"name": "LP Branch", "parent_id": self.shop.id})
            partner = self.env["res.partner"].create({"name": "Branch Member", "email": "branch@example.com"})
            return Card.sudo().create({"partner_id": partner.id, "program_id": self.program.id, "shop_id": branch.id})

        def card_of_another_merchant():
            merchant = self.env["res.company"].sudo().create({"name": "Other Bakery"})
            program = (
                self.env["loyalty_plus.program"]
                .sudo()
                .create({"name": "Other Rewards", "company_id": merchant.id, "program_type": "points"})
            )
            partner = self.env["res.partner"].sudo().create({"name": "Other Member", "email": "other@example.com"})
            return Card.sudo().create({"partner_id": partner.id, "program_id": program.id, "shop_id": merchant.id})

        def expired_reward():
            return self.env["loyalty_plus.reward"].create(
                {
                    "name": "Summer cake",
                    "program_id": self.program.id,
                    "points_cost": 10,
                    "reward_kind": "amount",
                    "discount_amount": 1.0,
                    "date_from": fields.Date.today() - timedelta(days=60),
                    "date_to": fields.Date.today() - timedelta(days=30),
                }
            )

        def daily_limit_reached():
            self.program.stamp_cooldown_minutes = 0
            self._give_stamps(self.rich_card, self.program.max_stamps_per_day)

        def allow_one_stamp_a_minute():
            self.env["ir.config_parameter"].set_param("loyalty_plus.rate_limit.stamp", 1)

        self.authenticate(self.cashier.login, self.cashier.login)
        self.enterContext(self._pin_attempts_kept())
        # (code, call, message id, the card the refusal carries for the till to refresh)
        refusals = [
            ("staff_pin_required", lambda: stamp(self.card), "A staff PIN is required.", None),
            ("staff_not_found", lambda: stamp(self.card, marc.browse(999999), "2345"), "Unknown staff member.", None),
            (
                "wrong_pin",
                lambda: stamp(self.card, marc, "0000"),
                "Wrong PIN: %(left)s attempts left before it locks.",
                None,
            ),
            (
                "wrong_pin",
                lambda: stamp(self.card, marc, "0000"),
                "Wrong PIN: %(left)s attempts left before it locks.",
                None,
            ),
            (
                "pin_locked",
                lambda: stamp(self.card, marc, "0000"),
                "Wrong PIN. The PIN of %(staff)s is now locked until %(until)s.",
                None,
            ),
            (
                "pin_locked",
                lambda: stamp(self.card, marc, "2345"),
                "The PIN of %(staff)s is locked until %(until)s.",
                None,
            ),
            (
                "cooldown_active",
                lambda: self._assert_done(stamp(self.card, self.staff, "1234")) or stamp(self.card, self.staff, "1234"),
                "Too soon: the next stamp is possible in %(minutes)s minutes.",
                None,
            ),
            (
                "daily_limit",
                lambda: daily_limit_reached() or stamp(self.rich_card, self.staff, "1234"),
                "Daily limit reached: this card already got %(count)s stamps today.",
                None,
            ),
            (
                "insufficient_stamps",
                lambda: (
                    "loyalty_plus.card",
                    "lp_authorize_stamp_reward",
                    [[self.card.id], config, "order-uuid"],
                    {"staff_pin_id": self.staff.id, "pin": "1234"},
                ),
                "Not enough stamps: %(count)s of %(target)s.",
                self.card,
            ),
            (
                "insufficient_points",
                lambda: check(self.card, self.reward),
                "Not enough points: the card has %(balance)s, %(reward)s costs %(cost)s.",
                self.card,
            ),
            (
                "reward_unavailable",
                lambda: check(self.rich_card, expired_reward()),
                "The reward %(reward)s is not available now.",
                self.rich_card,
            ),
            ("card_inactive", lambda: search(archived_card()), "The card %(card)s is not active.", None),
            (
                "wrong_shop",
                lambda: search(card_of_another_shop()),
                "This card is valid only in %(shop)s, where it was issued.",
                None,
            ),
            (
                "card_of_other_merchant",
                lambda: search(card_of_another_merchant()),
                "This card belongs to another merchant.",
                None,
            ),
            (
                "rate_limited",
                # the call allowed in this minute, then the one refused (right after: the same window)
                lambda: (
                    allow_one_stamp_a_minute()
                    or (self._jsonrpc(*stamp(self.card, self.staff, "1234")) and stamp(self.card, self.staff, "1234"))
                ),
                "Too many requests: please wait %(seconds)s seconds before trying again.",
                None,
            ),
        ]
        for code, call, msgid, card in refusals:
            with self.subTest(code=code, message=msgid), in_one_rate_window():
                _result, error = self._jsonrpc(*call(), lang="fr_FR")
                self.assertTrue(error, "refused")
                data = error["data"]
                self.assertEqual((data["name"], data["context"]["code"]), (REFUSAL, code))
                self.assertRegex(data["message"], self._message_pattern("loyalty_plus", msgid))
                if card:
                    self.assertEqual(data["context"]["card"]["id"], card.id)
        # a voucher code the customer brings: refused by the redemption model
        _result, error = self._jsonrpc("pos.order", "lp_read_voucher", [config, "nope-code"], lang="fr_FR")
        self.assertEqual(error["data"]["context"]["code"], "voucher_not_found")
        self.assertRegex(
            error["data"]["message"], self._message_pattern("loyalty_plus", "Unknown voucher code %(code)s.")
        )

    def _assert_done(self, call):
        _result, error = self._jsonrpc(*call)
        self.assertFalse(error, error and error["data"]["message"])
