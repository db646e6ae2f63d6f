import threading
from datetime import timedelta

import requests

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_plus.tests.common import LoyaltyPlusCase


class LoyaltyPlusApiHttpCase(LoyaltyPlusCase, HttpCase):
    """Two merchants, each with an integration and a real API key, called over JSON-2."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bakery.loyalty_plus_void_policy = "cashier"
        cls.integration = cls._make_integration(cls.manager, "Web shop", cls.bakery | cls.branch_esch, allow_all=True)
        cls.key = cls.integration._generate_api_key()
        cls.cafe_integration = cls._make_integration(cls.cafe_manager, "Café kiosk", cls.cafe, allow_all=True)
        cls.cafe_key = cls.cafe_integration._generate_api_key()
        cls.cafe_card = cls.env["loyalty_plus.card"].create(
            {"partner_id": cls.partner2.id, "program_id": cls.cafe_program.id, "shop_id": cls.cafe.id}
        )

    @classmethod
    def _make_integration(cls, manager, name, shops, allow_all=False, **vals):
        if allow_all:
            vals.update(allow_enroll=True, allow_stamp=True, allow_redeem=True, allow_void=True)
        Integration = cls.env["loyalty_plus.integration"].with_user(manager)
        Integration = Integration.with_context(allowed_company_ids=manager.company_ids.ids).with_company(
            manager.company_id
        )
        return Integration.create({"name": name, "shop_ids": [Command.set(shops.ids)], **vals})

    def call(self, method, key=None, model="loyalty_plus.api", headers=None, **params):
        """POST /json/2/<model>/<method> with ``key``; returns (status, body)."""
        key = self.key if key is None else key
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            headers["Authorization"] = f"bearer {key}"
        response = self.url_open(f"/json/2/{model}/{method}", json=params, headers=headers, timeout=30)
        return response.status_code, response.json(), response

    def assertApiError(self, outcome, status, code):
        got_status, body, _response = outcome
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["context"]["code"], code, body)
        self.assertTrue(body["message"], body)
        return body


@tagged("post_install", "-at_install")
class TestApiKeys(LoyaltyPlusApiHttpCase):
    def test_key_accepted_missing_wrong(self):
        status, body, _r = self.call("lookup", query=self.card.card_number)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["card"]["card_number"], self.card.card_number)
        with mute_logger("odoo.http"):
            status, body, _r = self.call("lookup", key="", query=self.card.card_number)
            self.assertEqual(status, 401)
            status, body, _r = self.call("lookup", key="0" * 40, query=self.card.card_number)
            self.assertEqual(status, 401)

    def test_key_revoked_stops_next_call(self):
        self.assertEqual(self.call("lookup", query=self.card.card_number)[0], 200)
        self.integration.with_user(self.manager).action_revoke_api_keys()
        with mute_logger("odoo.http"):
            self.assertEqual(self.call("lookup", query=self.card.card_number)[0], 401)
        new_key = self.integration.with_user(self.manager)._generate_api_key()
        self.assertEqual(self.call("lookup", key=new_key, query=self.card.card_number)[0], 200)
        # archiving the integration archives its user and removes its keys
        self.integration.with_user(self.manager).action_archive()
        self.assertFalse(self.integration.user_id.active)
        self.assertFalse(self.integration.user_id.api_key_ids)
        with mute_logger("odoo.http"):
            self.assertEqual(self.call("lookup", key=new_key, query=self.card.card_number)[0], 401)

    def test_key_expired(self):
        key = self.integration._generate_api_key(name="short", duration_days=1)
        self.env.cr.execute(
            "SELECT id, expiration_date FROM res_users_apikeys WHERE user_id = %s AND name = 'short'",
            [self.integration.user_id.id],
        )
        apikey_id, expiration_date = self.env.cr.fetchone()
        self.assertTrue(expiration_date, "Odoo's key wizard gave the key an expiry")
        self.assertLess(expiration_date, fields.Datetime.now() + timedelta(days=2))
        self.assertEqual(self.call("lookup", key=key, query=self.card.card_number)[0], 200)
        self.env.cr.execute(
            "UPDATE res_users_apikeys SET expiration_date = now() at time zone 'utc' - interval '1 minute' "
            "WHERE id = %s",
            [apikey_id],
        )
        with mute_logger("odoo.http"):
            self.assertEqual(self.call("lookup", key=key, query=self.card.card_number)[0], 401)

    def test_integration_user_is_internal_without_password(self):
        user = self.integration.user_id
        self.assertFalse(user.share)
        self.assertTrue(user.has_group("loyalty_plus.group_loyalty_plus_cashier"))
        self.assertFalse(user.has_group("loyalty_plus.group_loyalty_plus_manager"))
        self.assertEqual(user.company_ids, self.bakery | self.branch_esch)
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [user.id])
        self.assertFalse(self.env.cr.fetchone()[0])

    def test_other_merchant_never_reached(self):
        # the café's key sees neither the bakery's card by number nor its customer by email
        with mute_logger("odoo.http"):
            body = self.assertApiError(
                self.call("lookup", key=self.cafe_key, query=self.card.card_number), 403, "card_of_other_merchant"
            )
            self.assertNotIn("Lea", str(body))
            self.assertApiError(self.call("lookup", key=self.cafe_key, query="lea@example.com"), 404, "card_not_found")
            self.assertApiError(
                self.call(
                    "earn",
                    key=self.cafe_key,
                    idempotency_key="x1",
                    card=self.card.card_number,
                    amount=10,
                    order_ref="C-1",
                ),
                403,
                "card_of_other_merchant",
            )
            # plain JSON-2 ORM calls with the key are refused, even on the integration's own cards
            # (test_api_audit.TestApiIntegrationScope)
            for ids in (self.cafe_card.ids, self.card.ids):
                self.assertApiError(
                    self.call("read", key=self.cafe_key, model="loyalty_plus.card", ids=ids, fields=["points_balance"]),
                    403,
                    "integration_api_only",
                )
            # nor can it act for a shop of the bakery
            self.assertApiError(
                self.call("lookup", key=self.cafe_key, query=self.cafe_card.card_number, shop_id=self.bakery.id),
                403,
                "shop_not_allowed",
            )
        self.assertEqual(self.card.points_balance, 0 + self.program.welcome_bonus_points)

    def test_manager_shops_only(self):
        with self.assertRaises(UserError):
            self._make_integration(self.cafe_manager, "Sneaky", self.bakery)
        with self.assertRaises(UserError):
            self._make_integration(self.manager, "Mixed", self.bakery | self.cafe)

    def test_doc_lists_api(self):
        response = self.url_open("/doc-bearer/index.json", headers={"Authorization": f"bearer {self.key}"})
        self.assertEqual(response.status_code, 200, response.text)
        models = {m["model"]: m for m in response.json()["models"]}
        self.assertIn("loyalty_plus.api", models)
        for method in ("lookup", "enroll", "earn", "stamp", "redeem", "void", "history"):
            self.assertIn(method, models["loyalty_plus.api"]["methods"])
        response = self.url_open("/doc-bearer/loyalty_plus.api.json", headers={"Authorization": f"bearer {self.key}"})
        self.assertEqual(response.status_code, 200, response.text)
        earn = response.json()["methods"]["earn"]
        self.assertIn("idempotency_key", earn["parameters"])
        self.assertIn("order_ref", earn["parameters"])
        self.assertIn("purchase", earn["doc"])
        # the admin's /doc page itself renders
        self.authenticate("admin", "admin")
        self.assertEqual(self.url_open("/doc/loyalty_plus.api").status_code, 200)


@tagged("post_install", "-at_install")
class TestApiOperations(LoyaltyPlusApiHttpCase):
    def test_lookup_by_each_identifier(self):
        for query in (
            self.card.card_number,
            f"{self.card.card_number[:4]} {self.card.card_number[4:8]} {self.card.card_number[8:]}",
            self.card.qr_payload,
            "lea@example.com",
            "+352621000001",
        ):
            status, body, _r = self.call("lookup", query=query)
            self.assertEqual(status, 200, (query, body))
            summary = body["card"]
            self.assertEqual(summary["card_number"], self.card.card_number)
            self.assertEqual(summary["first_name"], "Lea")
            self.assertEqual((summary["stamps"], summary["stamps_target"]), (0, 3))
            self.assertEqual(summary["points"], 20)
            self.assertEqual(summary["rewards"][0]["redeemable"], False)
        with mute_logger("odoo.http"):
            self.assertApiError(self.call("lookup", query="nobody@example.com"), 404, "card_not_found")
            self.assertApiError(self.call("lookup", query=""), 422, "validation_error")

    def test_enroll(self):
        status, body, _r = self.call(
            "enroll",
            idempotency_key="enroll-1",
            name="Max Schmit",
            email="max@example.com",
            marketing_consent=True,
            shop_id=self.branch_esch.id,
        )
        self.assertEqual(status, 200, body)
        self.assertTrue(body["created"])
        self.assertEqual(body["card"]["points"], 20, "welcome bonus")
        card = self.env["loyalty_plus.card"].browse(body["card"]["id"])
        self.assertTrue(card.marketing_consent)
        self.assertTrue(card.terms_accepted_date)
        self.assertEqual(card.shop_id, self.branch_esch)
        # the same customer again (another key): the existing card, no second bonus
        status, body2, _r = self.call("enroll", idempotency_key="enroll-2", name="Max S.", email="MAX@example.com")
        self.assertEqual(status, 200, body2)
        self.assertFalse(body2["created"])
        self.assertEqual(body2["card"]["id"], card.id)
        self.assertEqual(body2["card"]["points"], 20)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("enroll", idempotency_key="enroll-3", name="X", email="not-an-email"), 422, "validation_error"
            )

    def test_earn_replay_and_conflict(self):
        params = {"card": self.card.card_number, "amount": 12.5, "order_ref": "WEB-1", "currency": "EUR"}
        status, first, _r = self.call("earn", idempotency_key="earn-1", **params)
        self.assertEqual(status, 200, first)
        self.assertEqual(first["points"], 125)
        self.assertEqual(first["card"]["points"], 145)
        status, again, _r = self.call("earn", idempotency_key="earn-1", **params)
        self.assertEqual(status, 200, again)
        self.assertTrue(again["replayed"])
        self.assertEqual(again["transaction_id"], first["transaction_id"])
        self.assertEqual(again["card"]["points"], 145)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("earn", idempotency_key="earn-1", **dict(params, amount=99)), 409, "idempotency_conflict"
            )
            # another operation with a used key is a conflict as well
            self.assertApiError(
                self.call("stamp", idempotency_key="earn-1", card=self.card.card_number), 409, "idempotency_conflict"
            )
        self.assertEqual(
            self.env["loyalty_plus.transaction"].search_count([("order_ref", "=", "WEB-1")]),
            1,
        )
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 145)
        self.assertLedgerMatches(self.card)

    def test_earn_errors(self):
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("earn", idempotency_key="e1", card=self.card.card_number, amount=1, order_ref="W-2"),
                422,
                "below_minimum_purchase",
            )
            self.assertApiError(
                self.call("earn", idempotency_key="e2", card=self.card.card_number, amount="ten", order_ref="W-2"),
                422,
                "validation_error",
            )
            self.assertApiError(
                self.call(
                    "earn", idempotency_key="e3", card=self.card.card_number, amount=5, order_ref="W-2", currency="XXX"
                ),
                422,
                "validation_error",
            )
            self.assertApiError(
                self.call("earn", idempotency_key="", card=self.card.card_number, amount=5, order_ref="W-2"),
                422,
                "validation_error",
            )
            # an unknown parameter is refused by JSON-2 itself, with a 4xx
            status, _body, _r = self.call("earn", idempotency_key="e4", card="x", amount=5, order_ref="W", bogus=1)
            self.assertEqual(status, 422)
            self.card.action_archive()
            self.assertApiError(
                self.call("earn", idempotency_key="e5", card=self.card.card_number, amount=5, order_ref="W-3"),
                422,
                "card_inactive",
            )
        # refused calls leave the key free and change nothing
        self.assertFalse(
            self.env["loyalty_plus.idempotency"].sudo().search([("integration_id", "=", self.integration.id)])
        )

    def test_stamp_pin_cooldown(self):
        card = self.card.card_number
        with mute_logger("odoo.http"):
            self.assertApiError(self.call("stamp", idempotency_key="s1", card=card), 422, "staff_pin_required")
            self.assertApiError(
                self.call("stamp", idempotency_key="s2", card=card, staff_pin_id=self.pin_anna.id, pin="0000"),
                422,
                "wrong_pin",
            )
        # (that the failed attempt is kept although the call is refused needs a real, committed
        # transaction: TestWrongPinSurvivesRollback)
        status, body, _r = self.call(
            "stamp", idempotency_key="s2", card=card, staff_pin_id=self.pin_anna.id, pin="1234"
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(body["card"]["stamps"], 1)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("stamp", idempotency_key="s3", card=card, staff_pin_id=self.pin_anna.id, pin="1234"),
                422,
                "cooldown_active",
            )

    def test_stamp_daily_limit_and_pin_lock(self):
        self.program.stamp_cooldown_minutes = 0
        card = self.card.card_number
        for i in range(2):
            status, body, _r = self.call(
                "stamp", idempotency_key=f"d{i}", card=card, staff_pin_id=self.pin_anna.id, pin="1234"
            )
            self.assertEqual(status, 200, body)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("stamp", idempotency_key="d2", card=card, staff_pin_id=self.pin_anna.id, pin="1234"),
                422,
                "daily_limit",
            )
            self.assertApiError(
                self.call("stamp", idempotency_key="w0", card=card, staff_pin_id=self.pin_anna.id, pin="9999"),
                422,
                "wrong_pin",
            )
            # the fifth wrong PIN in a row locks (each attempt is kept on a cursor of its own, which
            # the test server's single transaction cannot show: the four before are set here)
            self.pin_anna.sudo().failed_attempts = 4
            self.env.flush_all()
            body = self.assertApiError(
                self.call("stamp", idempotency_key="w4", card=card, staff_pin_id=self.pin_anna.id, pin="9999"),
                422,
                "pin_locked",
            )
            self.assertIn("now locked", body["message"])
            self.pin_anna.sudo().locked_until = fields.Datetime.now() + timedelta(minutes=30)
            self.env.flush_all()
            self.assertApiError(
                self.call("stamp", idempotency_key="w5", card=card, staff_pin_id=self.pin_anna.id, pin="1234"),
                422,
                "pin_locked",
            )

    def test_redeem_reward_and_stamps(self):
        card = self.card.card_number
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("redeem", idempotency_key="r1", card=card, reward_id=self.reward.id),
                422,
                "insufficient_points",
            )
            self.assertApiError(
                self.call(
                    "redeem", idempotency_key="r2", card=card, stamps=True, staff_pin_id=self.pin_anna.id, pin="1234"
                ),
                422,
                "insufficient_stamps",
            )
            self.assertApiError(self.call("redeem", idempotency_key="r3", card=card), 422, "validation_error")
        self.assertEqual(self.call("earn", idempotency_key="r-earn", card=card, amount=10, order_ref="R-1")[0], 200)
        status, body, _r = self.call("redeem", idempotency_key="r4", card=card, reward_id=self.reward.id)
        self.assertEqual(status, 200, body)
        self.assertTrue(body["code"])
        self.assertEqual(body["card"]["points"], 20)
        redemption = self.env["loyalty_plus.redemption"].sudo().search([("code", "=", body["code"])])
        self.assertEqual(redemption.state, "issued")
        replay = self.call("redeem", idempotency_key="r4", card=card, reward_id=self.reward.id)[1]
        self.assertEqual(replay["code"], body["code"])
        self.assertEqual(self.env["loyalty_plus.redemption"].sudo().search_count([("card_id", "=", self.card.id)]), 1)

    def test_void_full_and_partial(self):
        card = self.card.card_number
        status, earned, _r = self.call("earn", idempotency_key="v-earn", card=card, amount=10, order_ref="V-1")
        self.assertEqual((status, earned["card"]["points"]), (200, 120))
        status, body, _r = self.call("void", idempotency_key="v1", order_ref="V-1", amount=4)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["points"], body["card"]["points"]), (-40, 80))
        status, body, _r = self.call("void", idempotency_key="v2", transaction_id=earned["transaction_id"])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["card"]["points"], 20)
        with mute_logger("odoo.http"):
            self.assertApiError(
                self.call("void", idempotency_key="v3", transaction_id=earned["transaction_id"]), 422, "void_refused"
            )
            self.assertApiError(self.call("void", idempotency_key="v4", order_ref="NOPE"), 404, "transaction_not_found")
            cafe_tx = self.env["loyalty_plus.transaction"].sudo().search([], limit=1, order="id desc")
            self.assertApiError(
                self.call("void", key=self.cafe_key, idempotency_key="v5", transaction_id=cafe_tx.id),
                404,
                "transaction_not_found",
            )
            self.bakery.loyalty_plus_void_policy = "manager"
            self.assertApiError(
                self.call("void", idempotency_key="v6", transaction_id=earned["transaction_id"]), 403, "access_denied"
            )
        self.assertLedgerMatches(self.card)

    def test_history_paginated(self):
        card = self.card.card_number
        for i in range(3):
            self.call("earn", idempotency_key=f"h{i}", card=card, amount=5 + i, order_ref=f"H-{i}")
        status, page1, _r = self.call("history", card=card, limit=2)
        self.assertEqual(status, 200, page1)
        self.assertEqual(page1["total"], 4)  # welcome bonus + 3 purchases
        self.assertEqual([item["order_ref"] for item in page1["items"]], ["H-2", "H-1"])
        status, page2, _r = self.call("history", card=card, limit=2, offset=2)
        self.assertEqual([item["type"] for item in page2["items"]], ["points_earned", "welcome_bonus"])
        with mute_logger("odoo.http"):
            self.assertApiError(self.call("history", card=card, limit=1000), 422, "validation_error")

    def test_operation_not_allowed_and_not_an_integration(self):
        self.integration.allow_void = False
        with mute_logger("odoo.http"):
            self.assertApiError(self.call("void", idempotency_key="n1", order_ref="X"), 403, "operation_not_allowed")
            cashier_key = self.env["res.users.apikeys"].with_user(self.cashier).sudo()._generate(None, "own key", None)
            self.assertApiError(
                self.call("lookup", key=cashier_key, query=self.card.card_number), 403, "not_an_integration"
            )

    def test_rate_limit(self):
        limited = self._make_integration(self.manager, "Tiny", self.bakery, rate_limit_per_minute=3)
        key = limited._generate_api_key()
        for _i in range(3):
            status, body, _r = self.call("lookup", key=key, query=self.card.card_number)
            if status == 429:  # the minute turned between two calls: start again in the new one
                break
        with mute_logger("odoo.http"):
            statuses = [self.call("lookup", key=key, query=self.card.card_number) for _i in range(4)]
        refused = [outcome for outcome in statuses if outcome[0] == 429]
        self.assertTrue(refused, [s[0] for s in statuses])
        _status, body, response = refused[0]
        self.assertEqual(body["context"]["code"], "rate_limited")
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertLessEqual(int(response.headers["Retry-After"]), 60)

    def test_integration_held_to_its_own_limit_only(self):
        """The tills' per-user and per-IP caps do not apply to an integration: its own limit does."""
        self.env["ir.config_parameter"].sudo().set_param("loyalty_plus.rate_limit.earn", 2)
        statuses = []
        for n in range(4):
            status, body, _r = self.call(
                "earn", idempotency_key=f"own-{n}", card=self.card.card_number, amount=10, order_ref=f"OWN-{n}"
            )
            statuses.append((status, body.get("context", {}).get("code")))
        self.assertEqual([status for status, _code in statuses], [200] * 4, statuses)
        counters = self.env["loyalty_plus.rate_limit"].sudo().search([("key", "=like", "earn:%")])
        self.assertFalse(counters, "an API call is counted once, on the integration's counter")

    def test_parallel_retries_one_effect(self):
        params = {"idempotency_key": "par-1", "card": self.card.card_number, "amount": 20, "order_ref": "PAR-1"}
        results = []
        headers = {"Content-Type": "application/json", "Authorization": f"bearer {self.key}"}
        url = f"{self.base_url()}/json/2/loyalty_plus.api/earn"
        barrier = threading.Barrier(16)

        def client(cookies):
            with requests.Session() as session:
                session.cookies.update(cookies)
                barrier.wait(timeout=10)
                response = session.post(url, json=params, headers=headers, timeout=60)
                results.append((response.status_code, response.json()))

        # the test server serves every request on the test's cursor, one at a time: the 16
        # retries really arrive together, the database race itself is in test_api_race
        with self.allow_requests():
            cookies = dict(self.opener.cookies)
            threads = [threading.Thread(target=client, args=(cookies,)) for _i in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertEqual(len(results), 16)
        self.assertEqual({status for status, _body in results}, {200}, results)
        self.assertEqual(len({body["transaction_id"] for _status, body in results}), 1)
        self.assertEqual(sum(1 for _status, body in results if not body.get("replayed")), 1)
        ledger = self.env["loyalty_plus.transaction"].search([("card_id", "=", self.card.id)])
        self.assertEqual(ledger.mapped("transaction_type").count("points_earned"), 1)
        self.card.invalidate_recordset()
        self.assertEqual(self.card.points_balance, 220)

    def test_purge_keeps_a_day(self):
        self.call("earn", idempotency_key="old", card=self.card.card_number, amount=5, order_ref="P-1")
        Idempotency = self.env["loyalty_plus.idempotency"].sudo()
        row = Idempotency.search([("key", "=", "old")])
        self.assertTrue(row.response["ok"])
        self.assertEqual(Idempotency._purge_batch(fields.Datetime.now() - timedelta(hours=24), 100), 0)
        self.env.cr.execute(
            "UPDATE loyalty_plus_idempotency SET create_date = create_date - interval '3 days' WHERE id = %s", [row.id]
        )
        self.assertEqual(Idempotency._purge_batch(fields.Datetime.now() - timedelta(hours=48), 100), 1)
        self.assertFalse(row.exists())
