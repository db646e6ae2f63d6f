from . import test_enrollment_controller
from . import test_enrollment_race
from . import test_portal_access
from . import test_translations
from . import test_website_pages
from . import test_website_tours
