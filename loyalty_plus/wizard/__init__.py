from . import loyalty_plus_card_adjust
from . import loyalty_plus_card_deactivate
from . import loyalty_plus_card_bonus
from . import loyalty_plus_merchant_settings
from . import loyalty_plus_staff_pin_assign
from . import loyalty_plus_card_restore_points
from . import loyalty_plus_webhook_secret_show
