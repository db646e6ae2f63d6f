from . import enrollment
from . import portal
