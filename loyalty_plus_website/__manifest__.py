{
    "name": "Loyalty+ Website",
    "version": "19.0.1.0.0",
    "category": "Website",
    "summary": "Self-enrollment, customer portal and the Loyalty+ pages",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["loyalty_plus", "website", "portal"],
    "assets": {
        "web.assets_tests": [
            "loyalty_plus_website/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
}
