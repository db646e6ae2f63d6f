import { CustomerDisplayPosAdapter } from "@point_of_sale/app/customer_display/customer_display_adapter";
import { formatCurrency } from "@point_of_sale/app/models/utils/currency";
import { patch } from "@web/core/utils/patch";

/**
 * The member's progress on Odoo's customer display: the display loads no POS models, so it
 * gets plain values (see ``loyalty_plus_pos/static/src/customer_display``).
 */
patch(CustomerDisplayPosAdapter.prototype, {
    formatOrderData(order) {
        super.formatOrderData(order);
        this.data.lpMember = this.getLoyaltyMemberData(order);
    },
    /** The card on the order as the customer may see it (never the card number), or null. */
    getLoyaltyMemberData(order) {
        const card = order.lpCard;
        if (!card) {
            return null;
        }
        const hasStamps = ["stamps", "hybrid"].includes(card.program_type);
        const hasPoints = ["points", "hybrid"].includes(card.program_type);
        // what this sale earns, as the server last previewed it for the order
        const preview = order.uiState.lpPreview;
        return {
            firstName: card.first_name || "",
            hasStamps,
            stamps: hasStamps ? card.stamps : 0,
            stampsTarget: hasStamps ? card.stamps_target : 0,
            // what is left to spend for the next stamp (a stamps-per-amount rule), formatted
            toNextStamp:
                hasStamps && card.to_next_stamp
                    ? formatCurrency(card.to_next_stamp, order.currency)
                    : "",
            hasPoints,
            points: hasPoints ? card.points : 0,
            earns: preview?.summary || "",
            promotions: order.lines
                .filter((l) => l.lp_campaign_id && l.qty > 0)
                .map((l) => l.full_product_name || l.lp_campaign_id.name),
        };
    },
});
