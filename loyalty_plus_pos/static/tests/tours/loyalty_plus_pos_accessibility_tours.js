import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import { registry } from "@web/core/registry";

const AXE_URL = "/web/content/loyalty_plus_pos.axe_core_test";
const BLOCKING_IMPACTS = ["critical", "serious"];

/**
 * axe-core on one of our parts of the till (``selector``: a dialog's root or the card panel), in
 * the page as the cashier sees it; fails on critical or serious violations.
 */
function axeStep(selector, partName) {
    return {
        content: `axe-core finds no critical or serious violation in the ${partName}`,
        trigger: selector,
        run: async () => {
            if (!window.axe) {
                const response = await fetch(AXE_URL);
                const source = await response.text();
                if (!response.ok || !source.includes("axe")) {
                    throw new Error(`axe-core could not be loaded from ${AXE_URL} (${response.status})`);
                }
                const script = document.createElement("script");
                script.textContent = source;
                document.head.appendChild(script);
            }
            if (!window.axe) {
                throw new Error("axe-core did not load");
            }
            const results = await window.axe.run(
                { include: [[selector]] },
                { resultTypes: ["violations"], preload: false }
            );
            const blocking = results.violations.filter((v) => BLOCKING_IMPACTS.includes(v.impact));
            if (blocking.length) {
                const report = blocking
                    .map(
                        (v) =>
                            `${v.id} (${v.impact}): ${v.nodes
                                .map((n) => `${n.target.join(" ")} ${n.failureSummary || ""}`)
                                .join(" | ")}`
                    )
                    .join("; ");
                throw new Error(`axe-core violations in the ${partName}: ${report}`);
            }
            console.info(`axe-core: ${partName} clean (${results.violations.length} minor findings)`);
        },
    };
}

/** The dialog around our content ``inner`` (Odoo's Dialog: the element carrying role="dialog"). */
function dialogOf(inner) {
    return `.modal[role='dialog']:has(${inner})`;
}

registry.category("web_tour.tours").add("loyalty_plus_pos_accessibility", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // the member dialog: search, then enroll
            { trigger: ".lp-member-button", run: "click" },
            axeStep(dialogOf(".lp-member-dialog"), "member search dialog"),
            { trigger: ".lp-enroll-start", run: "click" },
            { trigger: ".lp-enroll-name" },
            axeStep(dialogOf(".lp-member-dialog"), "enroll dialog"),
            { trigger: ".lp-member-dialog button:contains(Back)", run: "click" },
            { trigger: ".lp-member-query", run: "edit Member" },
            { trigger: ".lp-member-search", run: "click" },
            { trigger: ".lp-member-result:contains(Lea Member)" },
            axeStep(dialogOf(".lp-member-results"), "member search results"),
            { trigger: ".lp-member-result:contains(Rich Member)", run: "click" },
            // the card panel of a member with a tier, points and rewards
            { trigger: ".lp-card-panel .lp-card-tier" },
            { trigger: ".lp-card-panel .lp-reward" },
            axeStep(".lp-card-panel", "card panel"),
            // the PIN pad
            { trigger: ".lp-stamp-button", run: "click" },
            { trigger: ".lp-pin-input" },
            axeStep(dialogOf(".lp-pin-pad"), "PIN pad"),
            { trigger: ".lp-pin-pad", run: "press Escape" },
            { trigger: "body:not(:has(.lp-pin-pad))" },
            // the voucher dialog
            { trigger: ".lp-voucher-button", run: "click" },
            { trigger: ".lp-voucher-code" },
            axeStep(dialogOf(".lp-voucher-dialog"), "voucher dialog"),
        ].flat(),
});
