from . import res_company
from . import res_config_settings
from . import loyalty_plus_card
from . import loyalty_plus_program
from . import loyalty_plus_wallet_pass
from . import loyalty_plus_wallet_registration
from . import loyalty_plus_tier
from . import loyalty_plus_health_check
