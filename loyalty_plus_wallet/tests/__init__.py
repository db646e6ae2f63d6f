from . import test_apple_pass
from . import test_google_wallet
from . import test_update_queue
from . import test_passkit_web_service
from . import test_translations
from . import test_push_cron_concurrency
from . import test_wallet_mail
from . import test_wallet_health
