import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";
import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";

/**
 * The member's invitation link on their card page: copy it, or hand it to the phone's share
 * sheet (where the browser has one) within the invitation text.
 */
export class LoyaltyPlusReferralShare extends Interaction {
    static selector = ".o_loyalty_plus_referral";
    dynamicContent = {
        ".o_loyalty_plus_referral_copy": { "t-on-click.prevent": this.onCopy },
        ".o_loyalty_plus_referral_share": {
            "t-on-click.prevent": this.onShare,
            "t-att-class": () => ({ "d-none": !browser.navigator.share }),
        },
        ".o_loyalty_plus_referral_status": { "t-out": () => this.status },
    };

    setup() {
        this.status = "";
    }

    async onCopy() {
        await this.waitFor(browser.navigator.clipboard.writeText(this.el.dataset.url));
        this.status = _t("Link copied.");
    }

    async onShare() {
        try {
            await this.waitFor(browser.navigator.share({ text: this.el.dataset.text }));
        } catch {
            // the member closed the share sheet: nothing to say
        }
    }
}

registry
    .category("public.interactions")
    .add("loyalty_plus_website.referral_share", LoyaltyPlusReferralShare);
