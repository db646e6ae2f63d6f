from . import test_pos_boot
