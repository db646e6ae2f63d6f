def post_init_hook(env):
    """Give each website's copy of our menus the translations of its original.

    The website module copies a menu of the default main menu into every website as soon as the
    menu is created, before the module's translations are loaded: the copies would stay English
    on the French, German and Luxembourgish pages."""
    Menu = env["website.menu"].with_context(active_test=False)
    originals = Menu.browse(
        env["ir.model.data"]
        .search([("module", "=", "loyalty_plus_website"), ("model", "=", "website.menu")])
        .mapped("res_id")
    )
    languages = [code for code, _name in env["res.lang"].get_installed() if code != "en_US"]
    for original in originals.exists():
        translations = {lang: original.with_context(lang=lang).name for lang in languages}
        copies = Menu.search([("url", "=", original.url), ("website_id", "!=", False), ("id", "!=", original.id)])
        english = original.with_context(lang="en_US").name
        translated = {lang: name for lang, name in translations.items() if name and name != english}
        for copy in copies if translated else ():
            copy.update_field_translations("name", translated)
