from . import test_pos
from . import test_pos_accessibility
from . import test_pos_rpc
from . import test_translations
from . import test_pos_lookups
from . import test_report_revenue
from . import test_pos_plan
