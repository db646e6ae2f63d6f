import { CustomerDisplay } from "@point_of_sale/customer_display/customer_display";
import { patch } from "@web/core/utils/patch";

// more slots than this do not fit the sidebar: the count says it alone
const MAX_STAMP_SLOTS = 20;

/** The member's progress, as the till sends it (``lpMember``, see the POS's display adapter). */
patch(CustomerDisplay.prototype, {
    get lpMember() {
        return this.order.lpMember || null;
    },
    get lpStampSlots() {
        const member = this.lpMember;
        const target = member?.stampsTarget || 0;
        if (!member?.hasStamps || target > MAX_STAMP_SLOTS) {
            return [];
        }
        return Array.from({ length: target }, (_, i) => ({ index: i, filled: i < member.stamps }));
    },
});
