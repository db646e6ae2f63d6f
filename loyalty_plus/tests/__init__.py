from . import test_groups
from . import test_operations
from . import test_concurrency
from . import test_access
from . import test_ledger_invariant
