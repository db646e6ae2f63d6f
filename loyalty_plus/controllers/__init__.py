from . import main
from . import card_qr
from . import health
