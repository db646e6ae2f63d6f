from datetime import timedelta

from passlib.context import CryptContext

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

# A 4-8 digit PIN has at most 10^8 values: no hash cost stops an offline search of that space,
# the lockout does. A modest round count keeps each check near a millisecond, inside the budget
# of a till operation.
PIN_CRYPT = CryptContext(schemes=["pbkdf2_sha256"], pbkdf2_sha256__rounds=1000)


class LoyaltyPlusStaffPin(models.Model):
    _name = "loyalty_plus.staff_pin"
    _inherit = ["loyalty_plus.program.mixin"]
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
    is_locked = fields.Boolean(compute="_compute_is_locked")

    _failed_attempts_positive = models.Constraint("CHECK (failed_attempts >= 0)", "Failed attempts cannot be negative.")

    def _compute_new_pin(self):
        self.new_pin = False

    def _inverse_new_pin(self):
        for staff in self.filtered("new_pin"):
            staff.sudo().pin_hash = self._hash_pin(staff.new_pin)

    @api.depends("locked_until")
    def _compute_is_locked(self):
        now = fields.Datetime.now()
        for staff in self:
            staff.is_locked = bool(staff.locked_until and staff.locked_until > now)

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
        self.write({"failed_attempts": 0, "locked_until": False})
        return True

    def _verify(self, pin, shop):
        """Check ``pin`` for this staff member in ``shop``.

        Returns ``None`` when it matches, else the (translated) reason it was refused. A wrong PIN
        is answered rather than raised: the failed attempt must be recorded, and a raised error
        rolls the whole transaction back, counter included.
        """
        self.ensure_one()
        if not self.active or self.shop_id != shop:
            raise UserError(self.env._("This staff PIN is not valid in %(shop)s.", shop=shop.name))
        now = fields.Datetime.now()
        staff_sudo = self.sudo()
        if staff_sudo.locked_until and staff_sudo.locked_until > now:
            raise UserError(
                self.env._(
                    "The PIN of %(staff)s is locked until %(until)s.",
                    staff=self.name,
                    until=fields.Datetime.context_timestamp(self, staff_sudo.locked_until).strftime("%H:%M"),
                )
            )
        if pin and staff_sudo.pin_hash and PIN_CRYPT.verify(str(pin), staff_sudo.pin_hash):
            if staff_sudo.failed_attempts or staff_sudo.locked_until:
                staff_sudo.write({"failed_attempts": 0, "locked_until": False})
            return None
        # Count the failure in the row itself: parallel wrong tries all count (a concurrent update
        # of the row is a serialization failure, and Odoo replays the request).
        merchant = staff_sudo.company_id
        max_attempts = merchant.loyalty_plus_pin_max_attempts
        lock_until = now + timedelta(minutes=merchant.loyalty_plus_pin_lock_minutes)
        self.env.cr.execute(
            SQL(
                """UPDATE loyalty_plus_staff_pin
                      SET failed_attempts = CASE WHEN failed_attempts + 1 >= %(max)s THEN 0
                                                 ELSE failed_attempts + 1 END,
                          locked_until = CASE WHEN failed_attempts + 1 >= %(max)s THEN %(until)s
                                              ELSE locked_until END,
                          write_date = %(now)s, write_uid = %(uid)s
                    WHERE id = %(id)s
                RETURNING failed_attempts, locked_until""",
                max=max_attempts,
                until=lock_until,
                now=now,
                uid=self.env.uid,
                id=self.id,
            )
        )
        attempts, locked_until = self.env.cr.fetchone()
        self.invalidate_recordset(["failed_attempts", "locked_until", "write_date", "write_uid"])
        if locked_until and locked_until > now:
            return self.env._(
                "Wrong PIN. The PIN of %(staff)s is now locked until %(until)s.",
                staff=self.name,
                until=fields.Datetime.context_timestamp(self, locked_until).strftime("%H:%M"),
            )
        return self.env._(
            "Wrong PIN: %(left)s attempts left before it locks.",
            left=max_attempts - attempts,
        )
