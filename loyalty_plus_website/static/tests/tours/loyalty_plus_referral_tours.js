import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("loyalty_plus_website_referral_copy", {
    steps: () => [
        {
            content: "The card page offers the member's invitation link",
            trigger: ".o_loyalty_plus_referral input.o_loyalty_plus_referral_url[value*='ref=']",
            run: () => {
                // the headless browser's clipboard needs a focused window: keep what is copied instead
                navigator.clipboard.writeText = async (text) => {
                    window.loyaltyPlusCopied = text;
                };
            },
        },
        { content: "Copy the link", trigger: "button.o_loyalty_plus_referral_copy", run: "click" },
        {
            content: "The page says the link was copied",
            trigger: ".o_loyalty_plus_referral_status:contains(Link copied.)",
            run: () => {
                const url = document.querySelector("input.o_loyalty_plus_referral_url").value;
                if (window.loyaltyPlusCopied !== url) {
                    throw new Error(`copied ${window.loyaltyPlusCopied}, expected ${url}`);
                }
            },
        },
    ],
});
