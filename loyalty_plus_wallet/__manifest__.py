{
    "name": "Loyalty+ Wallet",
    "version": "19.0.1.0.0",
    "category": "Sales/Loyalty",
    "summary": "Google Wallet and Apple Wallet passes that stay up to date",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["loyalty_plus"],
    "external_dependencies": {"python": ["PyJWT", "cryptography", "httpx", "h2", "Pillow"]},
    "data": [
        "security/ir.model.access.csv",
        "security/loyalty_plus_wallet_security.xml",
        "data/ir_cron_data.xml",
        "views/loyalty_plus_wallet_pass_views.xml",
        "views/res_config_settings_views.xml",
        "views/loyalty_plus_health_check_views.xml",
    ],
}
