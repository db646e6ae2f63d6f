from . import loyalty_plus_card_adjust
