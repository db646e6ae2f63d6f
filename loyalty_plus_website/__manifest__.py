{
    "name": "Loyalty+ Website",
    "version": "19.0.1.0.0",
    "category": "Website",
    "summary": "Self-enrollment, customer portal and the Loyalty+ pages",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "post_init_hook": "post_init_hook",
    "depends": ["loyalty_plus", "website", "portal"],
    "external_dependencies": {"python": ["qrcode"]},
    "data": [
        "security/ir.model.access.csv",
        "security/loyalty_plus_website_security.xml",
        "views/loyalty_plus_program_views.xml",
        "views/loyalty_plus_enrollment_templates.xml",
        "views/loyalty_plus_portal_templates.xml",
        "views/website_merchant_templates.xml",
        "report/loyalty_plus_card_reports.xml",
        "data/website_pages.xml",
        "data/website_get_started.xml",
        "data/loyalty_plus_merchant_request_data.xml",
        "views/loyalty_plus_merchant_request_views.xml",
    ],
    "demo": [
        "demo/loyalty_plus_website_demo.xml",
        "demo/loyalty_plus_program_translations_demo.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "loyalty_plus_website/static/src/interactions/**/*",
            "loyalty_plus_website/static/src/scss/**/*",
        ],
        "web.assets_tests": [
            "loyalty_plus_website/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
}
