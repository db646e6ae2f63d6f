from . import loyalty_plus_report_mixin
from . import loyalty_plus_report_overview
from . import loyalty_plus_report_cohort
from . import loyalty_plus_report_churn
from . import loyalty_plus_report_liability
from . import loyalty_plus_report_fraud
