from . import loyalty_plus_card
from . import loyalty_plus_enrollment_attempt
from . import loyalty_plus_program
from . import res_company
from . import website
