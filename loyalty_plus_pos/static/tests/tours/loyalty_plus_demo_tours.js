import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import { registry } from "@web/core/registry";

// The demo's Esch cashier opens its till and rings a croissant (loyalty_plus_website's
// TestDemoLogins, on the demo data): the bakery's products only, in euros.
registry.category("web_tour.tours").add("loyalty_plus_demo_esch_till", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.productIsDisplayed("Pain au chocolat"),
            ProductScreen.productIsDisplayed("Baguette"),
            ProductScreen.productIsDisplayed("Coffee"),
            {
                content: "none of Odoo's demo furniture",
                trigger: ".product-list:not(:has(.product-name:contains('Desk'))):not(:has(.product-name:contains('Chair')))",
            },
            ProductScreen.clickDisplayedProduct("Croissant"),
            ProductScreen.totalAmountIs("1.40"),
            { content: "prices in euros", trigger: ".product-screen .order-summary .total:contains('€')" },
            { content: "the Loyalty+ member button", trigger: ".lp-member-button" },
        ].flat(),
});
