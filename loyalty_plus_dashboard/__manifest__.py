{
    "name": "Loyalty+ Dashboard",
    "version": "19.0.1.0.0",
    "category": "Productivity/Dashboard",
    "summary": "The Loyalty+ dashboard in the Dashboards app: members, retention, revenue, liability, fraud",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["loyalty_plus_pos", "spreadsheet_dashboard"],
    "data": [
        "data/dashboards.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "loyalty_plus_dashboard/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
}
