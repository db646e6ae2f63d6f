import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/pos/tours/utils/ticket_screen_util";
import { scan_barcode } from "@point_of_sale/../tests/generic_helpers/utils";
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function openRegister() {
    return [Chrome.startPoS(), Dialog.confirm("Open Register")].flat();
}
function searchMember(query) {
    return [
        { trigger: ".lp-member-button", run: "click" },
        { trigger: ".lp-member-query", run: `edit ${query}` },
        { trigger: ".lp-member-search", run: "click" },
    ];
}
function panelShows(text) {
    return { content: `card panel shows ${text}`, trigger: `.lp-card-panel:contains("${text}")` };
}
function typePin(staff, pin) {
    return [
        { trigger: `.lp-staff-member:contains("${staff}")`, run: "click" },
        { trigger: ".lp-pin-key[data-key='clear']", run: "click" },
        ...[...pin].map((digit) => ({ trigger: `.lp-pin-key[data-key='${digit}']`, run: "click" })),
        { trigger: ".lp-pin-confirm", run: "click" },
    ];
}
function pinMessage(text) {
    return { content: `PIN pad says ${text}`, trigger: `.lp-pin-message:contains("${text}")` };
}
function payBank() {
    return [
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("Bank"),
        PaymentScreen.clickValidate(),
        ReceiptScreen.isShown(),
    ].flat();
}
function receiptShows(selector, value) {
    return { content: `receipt ${selector} = ${value}`, trigger: `.pos-receipt ${selector}:contains("${value}")` };
}

tours.add("loyalty_plus_pos_scan_stamp", {
    steps: () =>
        [
            openRegister(),
            // the card's QR code, scanned
            scan_barcode("LPC" + "352000000013"),
            panelShows("Lea Member"),
            { trigger: ".lp-stamp-count:contains('0/3')" },
            { trigger: ".lp-stamp-button", run: "click" },
            { trigger: ".lp-pin-input[inputmode='numeric'][aria-label]" },
            typePin("Anna", "9999"),
            pinMessage("attempts left"),
            typePin("Anna", "1234"),
            { trigger: ".lp-new-count:contains('1/3')" },
            { trigger: ".lp-pin-close", run: "click" },
            { trigger: ".lp-stamp-count:contains('1/3')" },
            // a second stamp right away: the cooldown
            { trigger: ".lp-stamp-button", run: "click" },
            typePin("Anna", "1234"),
            pinMessage("Too soon"),
            pinMessage("minutes"),
            { trigger: ".lp-pin-pad", run: "press Escape" },
            { trigger: "body:not(:has(.lp-pin-pad))" },
        ].flat(),
});

tours.add("loyalty_plus_pos_pin_lock", {
    steps: () =>
        [
            openRegister(),
            searchMember("352000000013"),
            panelShows("Lea Member"),
            { trigger: ".lp-stamp-button", run: "click" },
            typePin("Anna", "1111"),
            pinMessage("2 attempts left"),
            typePin("Anna", "1111"),
            pinMessage("1 attempts left"),
            typePin("Anna", "1111"),
            pinMessage("locked until"),
            typePin("Anna", "1234"),
            pinMessage("is locked until"),
        ].flat(),
});

tours.add("loyalty_plus_pos_search_earn_refund", {
    steps: () =>
        [
            openRegister(),
            searchMember("lea.member@example.com"),
            panelShows("Lea Member"),
            { trigger: ".lp-points:contains('0')" },
            ProductScreen.clickDisplayedProduct("LP Bread"),
            payBank(),
            receiptShows(".lp-receipt-earned", "20"),
            receiptShows(".lp-receipt-balance", "20"),
            ReceiptScreen.clickNextOrder(),
            // the customer brings the bread back
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrderByPrice("20.00"),
            ProductScreen.clickNumpad("1"),
            TicketScreen.confirmRefund(),
            PaymentScreen.isShown(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptShows(".lp-receipt-voided", "20"),
            receiptShows(".lp-receipt-balance", "0"),
        ].flat(),
});

tours.add("loyalty_plus_pos_redeem", {
    steps: () =>
        [
            openRegister(),
            searchMember("Rich"),
            panelShows("Rich Member"),
            { trigger: ".lp-reward-badge" },
            ProductScreen.clickDisplayedProduct("LP Bread"),
            { trigger: ".lp-reward:contains('Coffee voucher')", run: "click" },
            ProductScreen.totalAmountIs("18.00"),
            payBank(),
            receiptShows(".lp-receipt-redeemed", "50"),
            receiptShows(".lp-receipt-balance", "98"),
            ReceiptScreen.clickNextOrder(),
            // the same card again; another till spends the points before this one is paid
            searchMember("Rich"),
            panelShows("Rich Member"),
            ProductScreen.clickDisplayedProduct("LP Bread"),
            { trigger: ".lp-reward:contains('Coffee voucher')", run: "click" },
            {
                content: "another till spends points of the same card",
                trigger: ".lp-card-panel",
                run: async () => {
                    const pos = window.posmodel;
                    const card = pos.getOrder().lp_card_id;
                    const reward = pos.models["loyalty_plus.reward"].find((r) => r.name === "Coffee voucher");
                    await pos.data.call("loyalty_plus.card", "redeem_reward", [[card.id], reward.id], {
                        shop_id: pos.config.company_id.id,
                    });
                },
            },
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { trigger: ".modal:contains('Reward refused'):contains('48 points')" },
            Dialog.confirm(),
            PaymentScreen.isShown(),
        ].flat(),
});

tours.add("loyalty_plus_pos_enroll", {
    steps: () =>
        [
            openRegister(),
            { trigger: ".lp-member-button", run: "click" },
            { trigger: ".lp-enroll-start", run: "click" },
            { trigger: ".lp-enroll-name", run: "edit Nora Newcomer" },
            { trigger: ".lp-enroll-email", run: "edit nora@example.com" },
            { trigger: ".lp-enroll-phone", run: "edit +352621999999" },
            { trigger: ".lp-enroll-consent", run: "click" },
            { trigger: ".lp-enroll-confirm", run: "click" },
            panelShows("Nora Newcomer"),
            { trigger: ".product-screen .set-partner:contains('Nora Newcomer')" },
        ].flat(),
});
