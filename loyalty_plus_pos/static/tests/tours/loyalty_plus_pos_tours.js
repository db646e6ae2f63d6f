import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as OfflineUtil from "@point_of_sale/../tests/generic_helpers/offline_util";
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
function richMemberBreadWithVoucher() {
    // Rich's card, a bread, and the 2.00 coffee voucher taken off it
    return [
        openRegister(),
        searchMember("Rich"),
        panelShows("Rich Member"),
        ProductScreen.clickDisplayedProduct("LP Bread"),
        { trigger: ".lp-reward:contains('Coffee voucher')", run: "click" },
        ProductScreen.totalAmountIs("18.00"),
    ].flat();
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
            { trigger: ".lp-stamp-card[aria-label='0 of 3 stamps']" },
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
            // a reward line is worth what its reward gives: its price cannot be typed over
            ProductScreen.clickLine("Coffee voucher"),
            ProductScreen.clickNumpad("Price", "5"),
            { trigger: ".o_notification:contains('cannot be changed')" },
            ProductScreen.clickNumpad("Qty", "3"),
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
            // the engine's refusal, translated; the card panel shows the balance that refused
            { trigger: ".modal:contains('Reward refused'):contains('the card has 48')" },
            Dialog.confirm(),
            PaymentScreen.isShown(),
            PaymentScreen.clickBackToProductScreen(),
            { trigger: ".lp-card-panel .lp-points:contains('48')" },
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
            { content: "no card before the terms are accepted", trigger: ".lp-enroll-confirm", run: "click" },
            { trigger: ".lp-member-message:contains('program terms')" },
            { content: "the terms are shown as a code to scan", trigger: ".lp-enroll-terms-qr[src*='barcode_type=QR']" },
            { trigger: ".lp-enroll-terms-link[href$='/terms']" },
            { trigger: ".lp-enroll-terms-accepted", run: "click" },
            { trigger: ".lp-enroll-confirm", run: "click" },
            panelShows("Nora Newcomer"),
            { trigger: ".product-screen .set-partner:contains('Nora Newcomer')" },
        ].flat(),
});

function otherTill(content, method, kwargs) {
    return {
        content,
        trigger: ".lp-card-panel",
        run: async () => {
            const pos = window.posmodel;
            const card = pos.getOrder().lp_card_id;
            await pos.data.call("loyalty_plus.card", method, [[card.id]], {
                shop_id: pos.config.company_id.id,
                ...kwargs(pos),
            });
        },
    };
}

tours.add("loyalty_plus_pos_stamp_reward", {
    steps: () =>
        [
            openRegister(),
            searchMember("352000000013"),
            panelShows("Lea Member"),
            { trigger: ".lp-stamp-count:contains('6/3')" },
            { trigger: ".lp-redeem-stamps", run: "click" },
            typePin("Anna", "1234"),
            { trigger: ".lp-stamp-reward-added:contains('Free coffee')" },
            { trigger: ".lp-pin-close", run: "click" },
            ProductScreen.orderLineHas("Free coffee", "1", "0.00"),
            ProductScreen.clickDisplayedProduct("LP Bread"),
            ProductScreen.totalAmountIs("20.00"),
            payBank(),
            receiptShows(".lp-receipt-stamps", "3"),
            ReceiptScreen.clickNextOrder(),
            // three stamps left; another till spends them before this order is paid
            searchMember("352000000013"),
            panelShows("Lea Member"),
            { trigger: ".lp-stamp-count:contains('3/3')" },
            { trigger: ".lp-redeem-stamps", run: "click" },
            typePin("Anna", "1234"),
            { trigger: ".lp-stamp-reward-added" },
            { trigger: ".lp-pin-close", run: "click" },
            {
                content: "the free item is on the order: the card offers no second one",
                trigger: ".lp-card-panel:not(:has(.lp-redeem-stamps))",
            },
            ProductScreen.clickDisplayedProduct("LP Bread"),
            otherTill("another till redeems the same stamps", "redeem_stamps", (pos) => ({
                staff_pin_id: pos.models["loyalty_plus.staff_pin"].getAll()[0].id,
                pin: "1234",
            })),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { trigger: ".modal:contains('Reward refused'):contains('Not enough stamps: 0 of 3')" },
            Dialog.confirm(),
            PaymentScreen.isShown(),
            PaymentScreen.clickBackToProductScreen(),
            { trigger: ".lp-card-panel .lp-stamp-count:contains('0/3')" },
        ].flat(),
});

let issuedCode = "";
function typeVoucherCode() {
    return [
        { trigger: ".lp-voucher-button", run: "click" },
        {
            trigger: ".lp-voucher-code",
            async run(helpers) {
                await helpers.edit(issuedCode);
            },
        },
        { trigger: ".lp-voucher-apply", run: "click" },
    ];
}

tours.add("loyalty_plus_pos_voucher", {
    steps: () =>
        [
            openRegister(),
            searchMember("Rich"),
            panelShows("Rich Member"),
            ProductScreen.clickDisplayedProduct("LP Bread"),
            { trigger: ".lp-reward[data-kind='voucher']:contains('Cake voucher')", run: "click" },
            ProductScreen.orderLineHas("Cake voucher", "1", "0.00"),
            ProductScreen.totalAmountIs("20.00"),
            payBank(),
            receiptShows(".lp-receipt-redeemed", "30"),
            {
                content: "the receipt prints the voucher's one-time code",
                trigger: ".pos-receipt .lp-receipt-voucher:contains('Cake voucher') .lp-receipt-voucher-code",
                run() {
                    issuedCode = this.anchor.textContent.trim();
                    if (!/^[2-9A-Z]{4}-[2-9A-Z]{4}$/.test(issuedCode)) {
                        throw new Error(`not a voucher code: "${issuedCode}"`);
                    }
                },
            },
            ReceiptScreen.clickNextOrder(),
            // the customer comes back with the receipt
            ProductScreen.clickDisplayedProduct("LP Bread"),
            typeVoucherCode(),
            ProductScreen.orderLineHas("Cake voucher", "1", "-5.00"),
            ProductScreen.totalAmountIs("15.00"),
            payBank(),
            ReceiptScreen.clickNextOrder(),
            // the code works once
            ProductScreen.clickDisplayedProduct("LP Bread"),
            typeVoucherCode(),
            { trigger: ".lp-voucher-message:contains('cannot be used')" },
        ].flat(),
});

tours.add("loyalty_plus_pos_reward_follows_order", {
    steps: () =>
        [
            openRegister(),
            searchMember("Rich"),
            panelShows("Rich Member"),
            ProductScreen.clickDisplayedProduct("LP Bread"),
            ProductScreen.clickDisplayedProduct("LP Bread"),
            { trigger: ".lp-reward:contains('Tenth off')", run: "click" },
            ProductScreen.totalAmountIs("36.00"),
            // one bread goes back to the shelf after the reward was added
            { trigger: ".order-container .orderline.selected:has(.product-name:contains('LP Bread'))" },
            ProductScreen.clickNumpad("1"),
            ProductScreen.totalAmountIs("16.00"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { trigger: ".modal:contains('Reward changed'):contains('18.00')" },
            Dialog.confirm(),
            PaymentScreen.remainingIs("2.00"),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(),
});

tours.add("loyalty_plus_pos_switch_card", {
    steps: () =>
        [
            richMemberBreadWithVoucher(),
            // another card on the same order: the first card's reward goes with it
            searchMember("352000000013"),
            panelShows("Lea Member"),
            ProductScreen.totalAmountIs("20.00"),
            { trigger: ".order-container:not(:has(.orderline:contains('Coffee voucher')))" },
            // another customer while the server cannot be reached: Lea's card does not stay
            OfflineUtil.setOfflineMode(),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Rich Member"),
            { trigger: ".product-screen .set-partner:contains('Rich Member')" },
            { trigger: ".product-screen:not(:has(.lp-card-panel))" },
            OfflineUtil.setOnlineMode(),
        ].flat(),
});

tours.add("loyalty_plus_pos_offline", {
    steps: () =>
        [
            richMemberBreadWithVoucher(),
            OfflineUtil.setOfflineMode(),
            // the reward cannot be checked: the till says why instead of doing nothing
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { trigger: ".modal:contains('Reward refused'):contains('No connection to the server')" },
            Dialog.confirm(),
            PaymentScreen.clickBackToProductScreen(),
            // a product barcode that looks like a card number still sells the product
            scan_barcode("123456789012"),
            ProductScreen.totalAmountIs("38.00"),
            // a card's QR code cannot be read: the till says why
            scan_barcode("LPC" + "352000000013"),
            { trigger: ".modal:contains('No connection to the server')" },
            Dialog.confirm(),
            OfflineUtil.setOnlineMode(),
        ].flat(),
});

tours.add("loyalty_plus_pos_redeem_now_refused", {
    steps: () =>
        [
            openRegister(),
            searchMember("352000000013"),
            panelShows("Lea Member"),
            { trigger: ".lp-stamp-count:contains('2/3')" },
            { trigger: ".lp-stamp-button", run: "click" },
            typePin("Anna", "1234"),
            {
                content: "the card is full; another till redeems it first",
                trigger: ".lp-offer-reward",
                run: async () => {
                    const pos = window.posmodel;
                    await pos.data.call("loyalty_plus.card", "redeem_stamps", [[pos.getOrder().lp_card_id.id]], {
                        staff_pin_id: pos.models["loyalty_plus.staff_pin"].getAll()[0].id,
                        pin: "1234",
                        shop_id: pos.config.company_id.id,
                    });
                },
            },
            { trigger: ".lp-redeem-now", run: "click" },
            // refused: back to the PIN pad with the reason, never a retry with an empty PIN
            { trigger: ".lp-pin-message:not(:empty)" },
            { trigger: ".lp-pin-input" },
            { trigger: ".lp-pin-confirm:contains('Redeem')" },
            { trigger: ".lp-pin-pad", run: "press Escape" },
            { trigger: "body:not(:has(.lp-pin-pad))" },
        ].flat(),
});

tours.add("loyalty_plus_pos_stamp_without_pin", {
    steps: () =>
        [
            openRegister(),
            searchMember("352000000013"),
            panelShows("Lea Member"),
            { trigger: ".lp-stamp-button", run: "click" },
            // no staff PIN in this shop and the program asks for none: nothing to type
            { trigger: ".lp-pin-pad:not(:has(.lp-pin-input)):not(:has(.lp-staff-member))" },
            { trigger: ".lp-pin-confirm", run: "click" },
            { trigger: ".lp-new-count:contains('1/3')" },
            { trigger: ".lp-pin-close", run: "click" },
            { trigger: ".lp-stamp-count:contains('1/3')" },
        ].flat(),
});
