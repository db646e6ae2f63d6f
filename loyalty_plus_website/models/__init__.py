from . import loyalty_plus_card
from . import loyalty_plus_merchant_request
from . import loyalty_plus_program
from . import loyalty_plus_transaction
from . import res_company
from . import website
