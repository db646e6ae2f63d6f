{
    "name": "Loyalty+ Wallet",
    "version": "19.0.1.0.0",
    "category": "Sales/Loyalty",
    "summary": "Google Wallet and Apple Wallet passes that stay up to date",
    "author": "Loyalty+",
    "website": "https://github.com/loyalty-plus/loyalty-plus",
    "license": "LGPL-3",
    "depends": ["loyalty_plus"],
    "external_dependencies": {"python": ["PyJWT", "cryptography"]},
}
