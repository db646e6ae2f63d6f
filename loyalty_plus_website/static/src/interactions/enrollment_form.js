import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";

/**
 * After a refused submission, move the focus to the error summary so screen readers
 * announce it and keyboard users start from the list of fields to fix.
 */
export class LoyaltyPlusEnrollmentErrors extends Interaction {
    static selector = "#lp_error_summary";

    start() {
        this.el.focus();
    }
}

registry
    .category("public.interactions")
    .add("loyalty_plus_website.enrollment_errors", LoyaltyPlusEnrollmentErrors);
