{
    "name": "Loyalty+",
    "version": "19.0.1.0.0",
    "category": "Sales/Loyalty",
    "summary": "Stamp cards and points programs for merchants with one or many shops",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["base", "mail", "portal"],
    "external_dependencies": {"python": ["passlib", "qrcode"]},
    "data": [
        "security/loyalty_plus_groups.xml",
        "views/loyalty_plus_menus.xml",
    ],
    "application": True,
}
