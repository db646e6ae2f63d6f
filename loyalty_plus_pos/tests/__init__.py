from . import test_pos
from . import test_pos_rpc
from . import test_translations
