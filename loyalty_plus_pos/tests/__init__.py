from . import test_pos
from . import test_translations
