import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";

function searchMember(query) {
    return [
        { trigger: ".lp-member-button", run: "click" },
        { trigger: ".lp-member-query", run: `edit ${query}` },
        { trigger: ".lp-member-search", run: "click" },
    ];
}
function typeVoucher(code) {
    return [
        { trigger: ".lp-voucher-button", run: "click" },
        { trigger: ".lp-voucher-code", run: `edit ${code}` },
        { trigger: ".lp-voucher-apply", run: "click" },
    ];
}

/**
 * Lookups that forgive: a member found by the national form of their number, a voucher typed
 * in lower case without its dash; another member's voucher refused; the reward buttons leave out
 * what the order already spends.
 */
registry.category("web_tour.tours").add("loyalty_plus_pos_forgiving_lookups", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // the number as the customer says it
            searchMember("661 781 848"),
            { content: "Lea's card is on the order", trigger: ".lp-card-panel:contains('Lea Member')" },
            ProductScreen.clickDisplayedProduct("LP Bread"),
            // Rich's voucher brought to Lea's order
            typeVoucher("cake 2345"),
            { trigger: ".lp-voucher-message:contains('issued to another member')" },
            Dialog.cancel(),
            ProductScreen.totalAmountIs("20.00"),
            // Rich's own order: the code typed without its dash
            searchMember("Rich"),
            { content: "Rich's card is on the order", trigger: ".lp-card-panel:contains('Rich Member')" },
            typeVoucher("cake2345"),
            ProductScreen.orderLineHas("Cake voucher", "1", "-5.00"),
            ProductScreen.totalAmountIs("15.00"),
            // 130 points: the big treat leaves 30, enough for the cake voucher, not the coffee one
            { trigger: ".lp-reward:contains('Big treat'):enabled", run: "click" },
            ProductScreen.totalAmountIs("12.00"),
            { trigger: ".lp-points-left:contains('30')" },
            { trigger: ".lp-reward:contains('Coffee voucher'):disabled" },
            { trigger: ".lp-reward:contains('Cake voucher'):enabled" },
            { trigger: ".lp-reward:contains('Big treat'):disabled" },
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(),
});
