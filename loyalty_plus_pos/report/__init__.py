from . import loyalty_plus_report_revenue
