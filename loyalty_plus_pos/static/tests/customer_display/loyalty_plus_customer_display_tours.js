import * as CustomerDisplay from "@point_of_sale/../tests/customer_display/customer_display_utils";
import { registry } from "@web/core/registry";

// what the till sends for a member's order (see the POS's customer display adapter)
const MEMBER_ORDER = {
    lines: [
        {
            productName: "LP Bread",
            price: "$ 40.00",
            qty: "2.00",
            unit: "Units",
            unitPrice: "$ 20.00",
            customerNote: "",
            internalNote: "[]",
            comboParent: "",
            packLotLines: [],
            price_without_discount: "$ 40.00",
            isSelected: true,
        },
    ],
    finalized: false,
    amount: "36.00",
    paymentLines: [],
    change: 0,
    lpMember: {
        firstName: "Lea",
        hasStamps: true,
        stamps: 7,
        stampsTarget: 10,
        toNextStamp: "$ 18.00",
        hasPoints: true,
        points: 120,
        earns: "Earns 1 stamp and 36 points",
        promotions: ["Member deal"],
    },
};

registry.category("web_tour.tours").add("loyalty_plus_customer_display_member", {
    steps: () =>
        [
            CustomerDisplay.addProduct(MEMBER_ORDER, "a member's order"),
            { trigger: ".lp-customer-display-member:contains('Hello Lea')" },
            { trigger: ".lp-cd-stamp-count:contains('7/10')" },
            {
                content: "seven of ten stamps drawn",
                trigger: ".lp-cd-stamp-card:has(.lp-cd-stamp:nth-child(10)):has(.lp-cd-stamp-filled:nth-child(7)):not(:has(.lp-cd-stamp-filled:nth-child(8)))",
            },
            { trigger: ".lp-cd-to-next-stamp:contains('18.00')" },
            { trigger: ".lp-cd-points:contains('120')" },
            { trigger: ".lp-cd-earns:contains('Earns 1 stamp and 36 points')" },
            { trigger: ".lp-cd-promotions:contains('Member deal')" },
            CustomerDisplay.postMessage({ ...MEMBER_ORDER, lpMember: null }, "the card taken off"),
            { trigger: "body:not(:has(.lp-customer-display-member))" },
        ].flat(),
});
