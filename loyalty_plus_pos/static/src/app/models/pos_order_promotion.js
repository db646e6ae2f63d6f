import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { PosOrderline } from "@point_of_sale/app/models/pos_order_line";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** A promotion line is a loyalty line: worth what the promotion gives, never edited by hand. */
patch(PosOrderline.prototype, {
    get lpIsLoyaltyLine() {
        return super.lpIsLoyaltyLine || Boolean(this.lp_campaign_id);
    },
});

/**
 * The campaigns running now (as the server last listed them for the order) and the lines of the
 * discount promotions the server said apply. The server records each promotion when the paid
 * order syncs.
 */
patch(PosOrder.prototype, {
    initState() {
        super.initState(...arguments);
        this.uiState = { ...this.uiState, lpCampaigns: this.uiState.lpCampaigns || [] };
    },
    get lpCampaigns() {
        return this.uiState.lpCampaigns || [];
    },
    /** The order's sold lines as the engine reads them (loyalty lines left out). */
    get lpEngineLines() {
        return this.lines
            .filter((l) => !l.lpIsLoyaltyLine)
            .map((l) => ({
                product_id: l.product_id?.id || false,
                qty: l.qty,
                price_incl: l.priceIncl,
                price_excl: l.priceExcl,
            }));
    },
    get lpPromotionLines() {
        return this.lines.filter((l) => l.lp_campaign_id && l.qty > 0);
    },
    lpHasPromotion(campaignId) {
        return this.lpPromotionLines.some((l) => l.lp_campaign_id.id === campaignId);
    },
    /** What the sold lines come to, the base of a promotion's discount. */
    get lpPromotionBase() {
        const sold = this.lines.filter((l) => !l.lpIsLoyaltyLine);
        return Math.max(sold.reduce((total, l) => total + l.priceIncl, 0), 0);
    },
    lpPromotionPrice(kind, { percent = 0, amount = 0 } = {}) {
        const base = this.lpPromotionBase;
        if (kind === "percent") {
            return -((base * percent) / 100);
        }
        if (kind === "amount") {
            return -Math.min(amount, base);
        }
        return 0;
    },
    /**
     * Add the line of a promotion the server said applies (``values``: its ``lp_check_promotion``
     * answer): an amount or a percentage off through the discount product, or a free product.
     * Returns true, or why the line cannot be added.
     */
    lpAddPromotionLine(values) {
        if (this.lpHasPromotion(values.campaign_id)) {
            return _t("This promotion is already on the order.");
        }
        const campaign = this.models["loyalty_plus.campaign"].get(values.campaign_id);
        if (!campaign) {
            return _t("This promotion is not available in this point of sale: reload the till.");
        }
        const product =
            values.kind === "product"
                ? this.models["product.product"].get(values.product_id)
                : this.lpDiscountProduct;
        return this.lpCreateLoyaltyLine(product, this.lpPromotionPrice(values.kind, values), {
            full_product_name: values.description || campaign.name,
            lp_campaign_id: campaign,
            lp_card_id: this.lp_card_id,
        });
    },
    lpRemoveCard() {
        // a promotion is the member's: it leaves with the card
        for (const line of this.lpPromotionLines) {
            this.removeOrderline(line);
        }
        super.lpRemoveCard(...arguments);
    },
    /** Promotions that take an amount or a percentage off follow the order as it is now. */
    lpRefreshRewardLines() {
        let changed = super.lpRefreshRewardLines(...arguments);
        for (const line of this.lpPromotionLines) {
            const campaign = line.lp_campaign_id;
            const kind = { percent: "percent", fixed: "amount" }[campaign.discount_type];
            if (!kind) {
                continue;
            }
            const before = line.priceIncl;
            line.setUnitPrice(
                this.lpPromotionPrice(kind, {
                    percent: campaign.discount_value,
                    amount: campaign.discount_value,
                })
            );
            changed ||= !this.currency.isZero(line.priceIncl - before);
        }
        return changed;
    },
});
