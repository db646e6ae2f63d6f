import { Component, onMounted, onWillUnmount, useEffect } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { OrderSummary } from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { debounce } from "@web/core/utils/timing";
import { CardPanel } from "@loyalty_plus_pos/app/components/card_panel/card_panel";

// campaigns switch on and off by themselves: the list is asked again this often
export const CAMPAIGNS_REFRESH_MS = 3 * 60 * 1000;

/**
 * The campaigns running now in the till's shop: badges ("Double points Tuesday · ×2 points")
 * before a member is found; with a member, the discount promotions the order meets offer
 * "Apply". The server lists them and decides whether a promotion applies.
 */
export class CampaignList extends Component {
    static template = "loyalty_plus_pos.CampaignList";
    static props = { card: { type: Object, optional: true } };

    setup() {
        this.pos = usePos();
        this.applying = false;
        this.scheduleRefresh = debounce(() => this.refresh(), 400);
        let interval;
        onMounted(() => {
            interval = setInterval(() => this.refresh(), CAMPAIGNS_REFRESH_MS);
        });
        onWillUnmount(() => {
            clearInterval(interval);
            this.scheduleRefresh.cancel();
        });
        // the order, its card, and (while a promotion may apply) its lines
        useEffect(
            () => {
                this.scheduleRefresh();
            },
            () => [this.refreshKey]
        );
    }
    get order() {
        return this.pos.getOrder();
    }
    get campaigns() {
        return this.order?.lpCampaigns || [];
    }
    /** What the list depends on; read by the template so that a change renders it again. */
    get refreshKey() {
        const order = this.order;
        if (!order) {
            return "";
        }
        const cardId = order.lp_card_id?.id || 0;
        const promotions = cardId && this.campaigns.some((c) => c.campaign_type === "discount");
        const lines = promotions
            ? order.lpEngineLines.map((l) => `${l.product_id}:${l.qty}:${l.price_incl}`).join(",")
            : "";
        return `${order.uuid}|${cardId}|${lines}`;
    }
    async refresh() {
        const order = this.order;
        if (!order || !this.pos.lpProgram) {
            return;
        }
        try {
            await this.pos.lpRefreshCampaigns(order);
        } catch {
            // offline or refused: the list stays as it was, the server decides at payment
        }
    }
    canApply(campaign) {
        return (
            Boolean(this.props.card) &&
            campaign.campaign_type === "discount" &&
            campaign.applicable &&
            !this.order.lpHasPromotion(campaign.id)
        );
    }
    isApplied(campaign) {
        return campaign.campaign_type === "discount" && this.order.lpHasPromotion(campaign.id);
    }
    async onClickApply(campaign) {
        if (this.applying) {
            return;
        }
        this.applying = true;
        let result;
        try {
            result = await this.pos.lpApplyPromotion(campaign.id);
        } finally {
            this.applying = false;
        }
        if (result !== true) {
            this.pos.dialog.add(AlertDialog, { title: _t("Promotion not applied"), body: result });
            this.refresh();
        }
    }
}

patch(CardPanel, {
    components: { ...CardPanel.components, CampaignList },
});
patch(OrderSummary, {
    components: { ...OrderSummary.components, CampaignList },
});
