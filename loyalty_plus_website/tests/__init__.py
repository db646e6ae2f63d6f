from . import test_website_boot
