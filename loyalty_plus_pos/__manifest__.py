{
    "name": "Loyalty+ Point of Sale",
    "version": "19.0.1.0.0",
    "category": "Sales/Point of Sale",
    "summary": "Find members, stamp with a staff PIN, earn and redeem in the Odoo POS",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["loyalty_plus", "point_of_sale"],
    "data": [
        "security/loyalty_plus_pos_security.xml",
        "security/ir.model.access.csv",
        "security/loyalty_plus_report_revenue_security.xml",
        "data/product_product_data.xml",
        "data/barcode_rule_data.xml",
        "views/pos_order_views.xml",
        "views/loyalty_plus_transaction_views.xml",
        "views/loyalty_plus_card_views.xml",
        "views/loyalty_plus_program_views.xml",
        "report/loyalty_plus_report_revenue_views.xml",
    ],
    "demo": [
        "demo/product_demo.xml",
        "demo/pos_config_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "loyalty_plus_pos/static/src/**/*",
            ("remove", "loyalty_plus_pos/static/src/customer_display/**/*"),
        ],
        "point_of_sale.customer_display_assets": [
            "loyalty_plus_pos/static/src/customer_display/**/*",
        ],
        "point_of_sale.customer_display_assets_test": [
            "loyalty_plus_pos/static/tests/customer_display/**/*",
        ],
        "web.assets_tests": [
            "loyalty_plus_pos/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
}
