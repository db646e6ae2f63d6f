import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/pos/tours/utils/ticket_screen_util";
import { registry } from "@web/core/registry";

// A paid sale earns its stamps (test_pos_sale_earning.py: one stamp per LP Espresso, 10 for
// the reward, one point per euro).
const tours = registry.category("web_tour.tours");

function leaWithTwoCoffees() {
    return [
        Chrome.startPoS(),
        Dialog.confirm("Open Register"),
        { trigger: ".lp-member-button", run: "click" },
        { trigger: ".lp-member-query", run: "edit lea.member@example.com" },
        { trigger: ".lp-member-search", run: "click" },
        { trigger: ".lp-card-panel:contains('Lea Member')" },
        ProductScreen.clickDisplayedProduct("LP Espresso"),
        ProductScreen.clickDisplayedProduct("LP Espresso"),
        ProductScreen.totalAmountIs("6.00"),
    ].flat();
}
function previewShows(text) {
    return { content: `preview: ${text}`, trigger: `.lp-card-panel .lp-earn-preview:contains("${text}")` };
}
function pay() {
    return [
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("Bank"),
        PaymentScreen.clickValidate(),
    ].flat();
}
function receiptShows(selector, value) {
    return { content: `receipt ${selector} = ${value}`, trigger: `.pos-receipt ${selector}:contains("${value}")` };
}
const noPinPad = { content: "no PIN pad", trigger: "body:not(:has(.lp-pin-pad))" };

tours.add("loyalty_plus_pos_sale_stamps_pin", {
    steps: () =>
        [
            leaWithTwoCoffees(),
            previewShows("Earns 2 stamps and 6 points"),
            pay(),
            // the stamps of the sale: one PIN, in the payment flow; cancelled, the cashier is asked
            { trigger: ".modal-title:contains('Approve the stamps')" },
            { trigger: ".lp-pin-pad .btn-secondary:contains('Cancel')", run: "click" },
            { trigger: ".modal-body:contains('this sale earns no stamps')" },
            { trigger: ".modal-footer button:contains('Back')", run: "click" },
            PaymentScreen.isShown(),
            PaymentScreen.clickValidate(),
            { trigger: ".modal-title:contains('Approve the stamps')" },
            { trigger: ".lp-staff-member:contains('Anna')", run: "click" },
            ...[..."1234"].map((digit) => ({ trigger: `.lp-pin-key[data-key='${digit}']`, run: "click" })),
            { trigger: ".lp-pin-confirm:contains('Approve')", run: "click" },
            ReceiptScreen.isShown(),
            noPinPad,
            receiptShows(".lp-receipt-card", "•••• •••• 0013"),
            receiptShows(".lp-receipt-stamp-progress", "2/10"),
            receiptShows(".lp-receipt-stamps-earned", "2"),
            receiptShows(".lp-receipt-earned", "6"),
            receiptShows(".lp-receipt-balance", "6"),
            { content: "the QR of the card page", trigger: ".pos-receipt img.lp-receipt-qr[src^='data:image']" },
        ].flat(),
});

tours.add("loyalty_plus_pos_sale_stamps_no_pin_refund", {
    steps: () =>
        [
            leaWithTwoCoffees(),
            previewShows("Earns 2 stamps"),
            pay(),
            ReceiptScreen.isShown(),
            noPinPad,
            receiptShows(".lp-receipt-stamp-progress", "2/10"),
            ReceiptScreen.clickNextOrder(),
            // the customer brings both coffees back
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrderByPrice("6.00"),
            ProductScreen.clickNumpad("2"),
            TicketScreen.confirmRefund(),
            PaymentScreen.isShown(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShows(".lp-receipt-stamps-voided", "2"),
            receiptShows(".lp-receipt-stamp-progress", "0/10"),
            receiptShows(".lp-receipt-balance", "0"),
        ].flat(),
});

tours.add("loyalty_plus_pos_sale_double_points", {
    steps: () =>
        [
            leaWithTwoCoffees(),
            { trigger: ".lp-card-panel .lp-to-next-stamp:contains('10.00')" },
            previewShows("12 points"),
            previewShows("Double points day"),
            pay(),
            ReceiptScreen.isShown(),
            receiptShows(".lp-receipt-campaigns", "Double points day"),
            receiptShows(".lp-receipt-earned", "12"),
        ].flat(),
});
