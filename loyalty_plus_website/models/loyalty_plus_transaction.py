from odoo import api, models
from odoo.tools import SQL

# ledger rows of one card at one shop this close together belong to the same visit
VISIT_GAP_MINUTES = 30
# rows the shop or the cron writes on their own, never part of a customer's visit
NON_VISIT_TYPES = ("points_expired", "points_adjusted")


class LoyaltyPlusTransaction(models.Model):
    _inherit = "loyalty_plus.transaction"

    @api.model
    def _visits_sql(self, card):
        """The card's ledger rows numbered by visit (CTE ``numbered``: ``id``, ``visit``).

        A visit is what the customer lived as one: the rows of one order (points, a reward, a stamp
        given at the till while the order was rung, which carries no order reference) at one shop
        within ``VISIT_GAP_MINUTES``. Rows of two different orders, of another shop, or written
        without the customer (expiry, adjustments) start a visit of their own."""
        return SQL(
            """
            WITH counted AS (
                SELECT id, create_date, shop_id, order_ref, transaction_type,
                       COUNT(order_ref) OVER (ORDER BY id) AS refs_so_far
                  FROM loyalty_plus_transaction
                 WHERE card_id = %(card)s
            ), with_last_ref AS (
                -- the latest order reference up to this row (rows without one keep the one before)
                SELECT *, FIRST_VALUE(order_ref) OVER (PARTITION BY refs_so_far ORDER BY id) AS last_ref
                  FROM counted
            ), card_rows AS (
                SELECT id, create_date, shop_id, order_ref, transaction_type,
                       LAG(create_date) OVER w AS prev_date,
                       LAG(shop_id) OVER w AS prev_shop,
                       LAG(last_ref) OVER w AS prev_ref,
                       LAG(transaction_type) OVER w AS prev_type
                  FROM with_last_ref
                WINDOW w AS (ORDER BY id)
            ), marked AS (
                SELECT id,
                       CASE WHEN prev_date IS NULL
                              OR shop_id IS NULL
                              OR shop_id IS DISTINCT FROM prev_shop
                              OR create_date - prev_date > make_interval(mins => %(gap)s)
                              OR transaction_type IN %(alone)s
                              OR prev_type IN %(alone)s
                              OR (order_ref IS NOT NULL AND prev_ref IS NOT NULL AND order_ref <> prev_ref)
                            THEN 1 ELSE 0 END AS starts_visit
                  FROM card_rows
            ), numbered AS (
                SELECT id, SUM(starts_visit) OVER (ORDER BY id) AS visit FROM marked
            )
            """,
            card=card.id,
            gap=VISIT_GAP_MINUTES,
            alone=NON_VISIT_TYPES,
        )

    @api.model
    def _count_visits(self, card):
        query = SQL("%s SELECT COUNT(DISTINCT visit) FROM numbered", self._visits_sql(card))
        [(total,)] = self.env.execute_query(query)
        return total

    @api.model
    def _get_visits(self, card, limit, offset=0):
        """The card's visits, newest first: one recordset of ledger rows (newest first) per visit."""
        rows = self.env.execute_query(
            SQL(
                """%s SELECT ARRAY_AGG(id ORDER BY id DESC) FROM numbered
                    GROUP BY visit ORDER BY visit DESC LIMIT %s OFFSET %s""",
                self._visits_sql(card),
                limit,
                offset,
            )
        )
        page = self.browse([row_id for (ids,) in rows for row_id in ids])
        page.fetch(["create_date", "shop_id", "transaction_type", "stamps_delta", "points_delta", "reward_id"])
        return [self.browse(ids).with_prefetch(page._prefetch_ids) for (ids,) in rows]
