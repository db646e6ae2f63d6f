import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

/** Keep what the till sends Odoo's customer display (another page listens on this channel). */
function listenToCustomerDisplay() {
    return {
        content: "listen to what the till sends the customer display",
        trigger: "body",
        run: () => {
            window.lpCustomerDisplayData = null;
            const channel = new BroadcastChannel("UPDATE_CUSTOMER_DISPLAY");
            channel.onmessage = (event) => {
                window.lpCustomerDisplayData = event.data;
            };
        },
    };
}

/** Wait until the customer display got the member's progress ``expected`` (a few seconds at most). */
function customerDisplayHasMember(expected) {
    return {
        content: `the customer display gets ${JSON.stringify(expected)}`,
        trigger: "body",
        run: async () => {
            const matches = () => {
                const member = window.lpCustomerDisplayData?.lpMember;
                return (
                    member &&
                    Object.entries(expected).every(
                        ([key, value]) => JSON.stringify(member[key]) === JSON.stringify(value)
                    )
                );
            };
            for (let wait = 0; wait < 50 && !matches(); wait++) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            if (!matches()) {
                throw new Error(
                    `customer display data: ${JSON.stringify(window.lpCustomerDisplayData?.lpMember)}`
                );
            }
        },
    };
}

tours.add("loyalty_plus_pos_promotion_applied_paid", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            listenToCustomerDisplay(),
            // before a member is found: what runs now
            { trigger: ".lp-campaign[data-campaign-type='multiplier']:contains('Double points day'):contains('×2 points')" },
            { trigger: ".lp-member-button", run: "click" },
            { trigger: ".lp-member-query", run: "edit Lea" },
            { trigger: ".lp-member-search", run: "click" },
            { trigger: ".lp-card-panel:contains('Lea Member')" },
            ProductScreen.clickDisplayedProduct("LP Bread"),
            // 20.00: under the promotion's minimum spend, shown without "Apply"
            { trigger: ".lp-card-panel .lp-campaign[data-campaign-type='discount']:contains('Member deal')" },
            { trigger: ".lp-card-panel:not(:has(.lp-promotion-apply))" },
            ProductScreen.clickDisplayedProduct("LP Bread"),
            { trigger: ".lp-promotion-apply:contains('Member deal')", run: "click" },
            ProductScreen.totalAmountIs("36.00"),
            { trigger: ".lp-card-panel .lp-campaign[data-campaign-type='discount']:contains('Member deal') .fa-check" },
            customerDisplayHasMember({
                firstName: "Lea",
                hasStamps: true,
                stamps: 2,
                stampsTarget: 3,
                promotions: ["Member deal"],
            }),
            // a bread taken off after the promotion: the server refuses it before payment
            {
                content: "the bread line stays selected when the promotion is added",
                trigger: ".order-container .orderline.selected:has(.product-name:contains('LP Bread'))",
            },
            ProductScreen.clickNumpad("1"),
            ProductScreen.totalAmountIs("16.00"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { trigger: ".modal:contains('Promotion refused'):contains('Member deal')" },
            Dialog.confirm(),
            PaymentScreen.clickPaymentlineDelButton("Bank", "16.00"),
            PaymentScreen.clickBack(),
            ProductScreen.clickDisplayedProduct("LP Bread"),
            ProductScreen.totalAmountIs("36.00"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            { content: "the receipt names the promotion", trigger: ".pos-receipt:contains('Member deal')" },
        ].flat(),
});
