{
    "name": "Loyalty+ Point of Sale",
    "version": "19.0.1.0.0",
    "category": "Sales/Point of Sale",
    "summary": "Find members, stamp with a staff PIN, earn and redeem in the Odoo POS",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["loyalty_plus", "point_of_sale"],
    "assets": {
        "web.assets_tests": [
            "loyalty_plus_pos/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
}
