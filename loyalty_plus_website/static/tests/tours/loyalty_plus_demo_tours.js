import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// The demo's logins on their main screens (TestDemoLogins, on the demo data).
tours.add("loyalty_plus_demo_manager_program", {
    steps: () => [
        {
            content: "the merchant's program in the list",
            trigger: ".o_list_view .o_data_row:contains('Lëtzebuerg Fidelity')",
        },
        {
            content: "no other merchant's program",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Kaffiskaart')))",
        },
        {
            content: "open the program",
            trigger: ".o_data_row .o_data_cell:contains('Lëtzebuerg Fidelity')",
            run: "click",
        },
        {
            content: "its form",
            trigger: ".o_form_view .o_field_widget[name=name]:contains('Lëtzebuerg Fidelity'), .o_form_view .o_field_widget[name=name] input:value('Lëtzebuerg Fidelity')",
        },
        {
            content: "the Loyalty+ menus, settings included",
            trigger: ".o_main_navbar .o_menu_sections button:contains('Configuration')",
            run: "click",
        },
        {
            trigger: ".dropdown-menu .dropdown-item:contains('Merchant Settings')",
            run: "click",
        },
        {
            content: "the merchant's settings",
            trigger: ".modal .o_form_view .o_field_widget[name=company_id]:contains('Boulangerie Lëtzebuerg')",
        },
    ],
});

tours.add("loyalty_plus_demo_cafe_program", {
    steps: () => [
        {
            content: "the café's program in the list",
            trigger: ".o_list_view .o_data_row:contains('Kaffiskaart')",
        },
        {
            content: "no other merchant's program",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Lëtzebuerg Fidelity')))",
        },
        {
            content: "open the program",
            trigger: ".o_data_row .o_data_cell:contains('Kaffiskaart')",
            run: "click",
        },
        {
            content: "its form",
            trigger: ".o_form_view .o_field_widget[name=name]:contains('Kaffiskaart'), .o_form_view .o_field_widget[name=name] input:value('Kaffiskaart')",
        },
    ],
});

tours.add("loyalty_plus_demo_admin_backend", {
    steps: () => [
        {
            content: "every merchant's program",
            trigger: ".o_list_view:has(.o_data_row:contains('Lëtzebuerg Fidelity')):has(.o_data_row:contains('Kaffiskaart'))",
        },
        {
            content: "the Loyalty+ app's menus",
            trigger: ".o_main_navbar .o_menu_brand:contains('Loyalty+')",
        },
    ],
});

tours.add("loyalty_plus_demo_customer_portal", {
    steps: () => [
        {
            content: "the customer's card on the portal",
            trigger: "#wrap:contains('Lëtzebuerg Fidelity'), #wrap:contains('Boulangerie Lëtzebuerg')",
        },
        {
            content: "the bakery's website",
            trigger: "footer .o_loyalty_plus_merchant_footer:contains('Grand-Rue')",
        },
    ],
});
