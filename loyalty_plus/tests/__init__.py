from . import test_groups
