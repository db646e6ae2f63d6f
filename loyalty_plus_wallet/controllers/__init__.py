from . import passkit
from . import wallet
