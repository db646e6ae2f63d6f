from datetime import timedelta

from passlib.context import CryptContext
from psycopg2.errors import LockNotAvailable

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.sql_db import Cursor
from odoo.tools import SQL

from ..exceptions import LoyaltyPlusRefusal

# A 4-8 digit PIN has at most 10^8 values: no hash cost stops an offline search of that space,
# the lockout does. A modest round count keeps each check near a millisecond, inside the budget
# of a till operation.
PIN_CRYPT = CryptContext(schemes=["pbkdf2_sha256"], pbkdf2_sha256__rounds=1000)
# Locks in a row (without a right PIN between them) each last twice as long as the one before; the
# third within a day holds until a manager unlocks: a 4-digit PIN no longer falls to patience.
MANAGER_LOCK_AFTER = 3
LOCK_STREAK_HOURS = 24


class LoyaltyPlusStaffPin(models.Model):
    _name = "loyalty_plus.staff_pin"
    _inherit = ["loyalty_plus.program.mixin", "mail.thread", "mail.activity.mixin"]
    _description = "Loyalty+ staff PIN"
    _order = "shop_id, name, id"
    _check_company_auto = True

    name = fields.Char(string="Staff member", required=True)
    active = fields.Boolean(default=True)
    program_id = fields.Many2one("loyalty_plus.program", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    shop_id = fields.Many2one("res.company", string="Shop", required=True, index=True)
    user_id = fields.Many2one("res.users", string="User", help="The Odoo user of this staff member, if any")
    # Never sent to a browser: readable by nobody but the superuser.
    pin_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    new_pin = fields.Char(
        string="PIN",
        compute="_compute_new_pin",
        inverse="_inverse_new_pin",
        help="Type a new PIN of 4 to 8 digits; it is stored hashed and never shown again.",
    )
    failed_attempts = fields.Integer(required=True, default=0, readonly=True, copy=False)
    locked_until = fields.Datetime(readonly=True, copy=False)
    lock_count = fields.Integer(
        string="Locks in a row", readonly=True, copy=False, help="Locks since the last right PIN, each twice as long"
    )
    last_lock_date = fields.Datetime(string="Last lock", readonly=True, copy=False)
    manager_unlock_required = fields.Boolean(
        string="Manager must unlock",
        readonly=True,
        copy=False,
        help="Locked too often in a day: only a loyalty manager can unlock it",
    )
    is_locked = fields.Boolean(compute="_compute_is_locked")

    _failed_attempts_positive = models.Constraint("CHECK (failed_attempts >= 0)", "Failed attempts cannot be negative.")

    def _compute_new_pin(self):
        self.new_pin = False

    def _inverse_new_pin(self):
        for staff in self.filtered("new_pin"):
            staff.sudo().pin_hash = self._hash_pin(staff.new_pin)

    @api.depends("locked_until", "manager_unlock_required")
    def _compute_is_locked(self):
        now = fields.Datetime.now()
        for staff in self:
            staff.is_locked = staff.manager_unlock_required or bool(staff.locked_until and staff.locked_until > now)

    @api.constrains("shop_id", "program_id")
    def _check_shop(self):
        for staff in self:
            staff.shop_id._loyalty_plus_check_shop_of(staff.program_id.company_id)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("new_pin"):
                raise ValidationError(self.env._("Give the staff member a PIN."))
        return super().create(vals_list)

    def _hash_pin(self, pin):
        if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 8:
            raise ValidationError(self.env._("A PIN is 4 to 8 digits."))
        return PIN_CRYPT.hash(pin)

    def action_unlock(self):
        if not self.env.user.has_group("loyalty_plus.group_loyalty_plus_manager"):
            raise AccessError(self.env._("Only a loyalty manager can unlock a PIN."))
        self.check_access("write")
        self.sudo().write(
            {"failed_attempts": 0, "locked_until": False, "lock_count": 0, "manager_unlock_required": False}
        )
        self.activity_feedback(["mail.mail_activity_data_todo"], feedback=self.env._("Unlocked"))
        return True

    def _check_pin(self, pin, shop):
        """Refuse this staff member in ``shop`` unless ``pin`` is theirs (``staff_not_found``,
        ``pin_locked``, ``wrong_pin``).

        The attempt is written on a cursor of its own, so that a wrong PIN counts although the
        refusal rolls the caller's transaction back; nobody commits the caller's transaction.
        """
        self.ensure_one()
        if not self.active or self.shop_id != shop:
            raise LoyaltyPlusRefusal(
                "staff_not_found", self.env._("This staff PIN is not valid in %(shop)s.", shop=shop.name)
            )
        now = fields.Datetime.now()
        staff_sudo = self.sudo()
        if staff_sudo.manager_unlock_required:
            raise LoyaltyPlusRefusal(
                "pin_locked",
                self.env._("The PIN of %(staff)s is locked: a loyalty manager must unlock it.", staff=self.name),
            )
        if staff_sudo.locked_until and staff_sudo.locked_until > now:
            raise LoyaltyPlusRefusal(
                "pin_locked",
                self.env._(
                    "The PIN of %(staff)s is locked until %(until)s.",
                    staff=self.name,
                    until=self._format_lock_time(staff_sudo.locked_until),
                ),
            )
        if pin and staff_sudo.pin_hash and PIN_CRYPT.verify(str(pin), staff_sudo.pin_hash):
            if staff_sudo.failed_attempts or staff_sudo.lock_count:
                self._record_attempt(SQL("failed_attempts = 0, lock_count = 0, locked_until = NULL"), now)
            return
        merchant = staff_sudo.company_id
        max_attempts = merchant.loyalty_plus_pin_max_attempts
        # the counters are read and moved in one statement, on the row as committed now: parallel
        # wrong tries all count, and each lock follows the streak of those before it
        locks = SQL(
            "CASE WHEN last_lock_date > %s THEN lock_count + 1 ELSE 1 END",
            now - timedelta(hours=LOCK_STREAK_HOURS),
        )
        locking = SQL("failed_attempts + 1 >= %s", max_attempts)
        row = self._record_attempt(
            SQL(
                """failed_attempts = CASE WHEN %(locking)s THEN 0 ELSE failed_attempts + 1 END,
                   lock_count = CASE WHEN %(locking)s THEN %(locks)s ELSE lock_count END,
                   last_lock_date = CASE WHEN %(locking)s THEN %(now)s ELSE last_lock_date END,
                   locked_until = CASE WHEN %(locking)s
                                       THEN %(now)s + make_interval(secs => %(minutes)s * 60 * 2 ^ (%(locks)s - 1))
                                       ELSE locked_until END,
                   manager_unlock_required = manager_unlock_required OR (%(locking)s AND %(locks)s >= %(manager)s)""",
                locking=locking,
                locks=locks,
                now=now,
                minutes=merchant.loyalty_plus_pin_lock_minutes,
                manager=MANAGER_LOCK_AFTER,
            ),
            now,
        )
        attempts, locked_until, manager_only, lock_count = row
        if manager_only:
            if lock_count == MANAGER_LOCK_AFTER and not attempts:
                self._notify_managers_of_lock()
            raise LoyaltyPlusRefusal(
                "pin_locked",
                self.env._(
                    "Wrong PIN. The PIN of %(staff)s is now locked: a loyalty manager must unlock it.",
                    staff=self.name,
                ),
            )
        if locked_until and locked_until > now:
            raise LoyaltyPlusRefusal(
                "pin_locked",
                self.env._(
                    "Wrong PIN. The PIN of %(staff)s is now locked until %(until)s.",
                    staff=self.name,
                    until=self._format_lock_time(locked_until),
                ),
            )
        raise LoyaltyPlusRefusal(
            "wrong_pin",
            self.env._("Wrong PIN: %(left)s attempts left before it locks.", left=max_attempts - attempts),
            attempts_left=max_attempts - attempts,
        )

    def _format_lock_time(self, until):
        local = fields.Datetime.context_timestamp(self, until)
        today = fields.Datetime.context_timestamp(self, fields.Datetime.now()).date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")

    def _record_attempt(self, assignments, now):
        """Apply ``assignments`` to this staff member's row on a cursor of its own, committed at once;
        returns ``(failed_attempts, locked_until, manager_unlock_required, lock_count)``.

        A row this transaction created is not visible to another cursor yet (tests, a PIN set in
        the same transaction): it is then updated here, where it lives."""
        query = SQL(
            """UPDATE loyalty_plus_staff_pin SET %s, write_date = %s, write_uid = %s WHERE id = %s
               RETURNING failed_attempts, locked_until, manager_unlock_required, lock_count""",
            assignments,
            now,
            self.env.uid,
            self.id,
        )
        row = None
        try:
            with self.env.registry.cursor() as cr:
                if isinstance(cr, Cursor):
                    # never wait long for a row this very transaction may hold (a test's, a write
                    # earlier in the same request): then it is counted where it is held
                    cr.execute(SQL("SET LOCAL lock_timeout = '2s'"))
                cr.execute(query)
                row = cr.fetchone()
        except LockNotAvailable:
            row = None
        if row is None:
            self.env.cr.execute(query)
            row = self.env.cr.fetchone()
        self.invalidate_recordset(
            ["failed_attempts", "locked_until", "manager_unlock_required", "lock_count", "last_lock_date"]
        )
        return row

    def _notify_managers_of_lock(self):
        """An activity for each loyalty manager of the merchant, on a cursor of its own (the refusal
        that follows rolls the caller's transaction back)."""
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            staff = env[self._name].browse(self.id).exists()
            if staff:
                staff._schedule_unlock_activities()
                return
        # a PIN made in this very transaction is not visible to another cursor yet
        self.sudo()._schedule_unlock_activities()

    def _schedule_unlock_activities(self):
        env = self.env
        for staff in self:
            merchant = staff.company_id
            managers = env.ref("loyalty_plus.group_loyalty_plus_manager").all_user_ids.filtered(
                lambda user, merchant=merchant: merchant in user.company_ids and not user.share
            )
            for manager in managers:
                staff.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=env._("PIN of %(staff)s locked", staff=staff.name),
                    note=env._(
                        "Locked %(count)s times in a day after wrong PINs: check with %(staff)s, then unlock it.",
                        count=MANAGER_LOCK_AFTER,
                        staff=staff.name,
                    ),
                    user_id=manager.id,
                )
