from . import test_wallet_install
