import { Component, useEffect } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { PinPadDialog } from "@loyalty_plus_pos/app/components/pin_pad_dialog/pin_pad_dialog";

/** The member's card on the order: name, tier, stamp card, points, rewards available now. */
export class CardPanel extends Component {
    static template = "loyalty_plus_pos.CardPanel";
    static props = { card: Object };

    setup() {
        this.pos = usePos();
        this.adding = false;
        // the preview follows the lines and the card (read while rendering: a change re-renders)
        useEffect(
            (key) => {
                if (key && key !== this.order.uiState.lpPreviewKey) {
                    this.pos.lpSchedulePreview(this.order);
                }
            },
            () => [this.previewKey]
        );
    }
    get previewKey() {
        return this.order?.lpPreviewKey || false;
    }
    /** What the order earns, as the server last previewed it (false while the lines change). */
    get preview() {
        const order = this.order;
        return (order.uiState.lpPreviewKey === this.previewKey && order.uiState.lpPreview) || false;
    }
    get order() {
        return this.pos.getOrder();
    }
    get stampSlots() {
        const card = this.props.card;
        const target = Math.max(card.stamps_target || 0, 0);
        return Array.from({ length: target }, (_, i) => ({ index: i, filled: i < card.stamps }));
    }
    /** What a screen reader says of the stamp card (the slots themselves are drawn). */
    get stampCardLabel() {
        return _t("%(stamps)s of %(target)s stamps", {
            stamps: this.props.card.stamps,
            target: this.props.card.stamps_target,
        });
    }
    /** What the customer still has to spend for the next stamp (a stamps-per-amount rule). */
    get toNextStamp() {
        return this.pos.env.utils.formatCurrency(this.props.card.to_next_stamp);
    }
    get hasStamps() {
        return ["stamps", "hybrid"].includes(this.props.card.program_type);
    }
    get hasPoints() {
        return ["points", "hybrid"].includes(this.props.card.program_type);
    }
    get redeemableRewards() {
        return this.props.card.rewards.filter((r) => r.redeemable);
    }
    /** The points the order's reward lines have not spent yet. */
    get pointsLeft() {
        return this.props.card.points - this.order.lpCommittedPoints;
    }
    /**
     * Whether a reward's button may add it: the server said the card pays it, and the points
     * the order's other rewards spend leave enough (the server checks again when it is added).
     */
    isRewardAvailable(reward) {
        return !this.isOnOrder(reward.id) && reward.points_cost <= this.pointsLeft;
    }
    /** A full stamp card whose free item is not on the order yet. */
    get stampRewardReady() {
        const card = this.props.card;
        const used = this.order.lpStampRewardCount * card.stamps_target;
        return card.stamp_reward_ready && card.stamps - used >= card.stamps_target;
    }
    get rewardWaiting() {
        return this.stampRewardReady || this.redeemableRewards.some((r) => this.isRewardAvailable(r));
    }
    isOnOrder(rewardId) {
        return this.order.lines.some((l) => l.lp_reward_id?.id === rewardId);
    }
    onClickStamp() {
        this.pos.dialog.add(PinPadDialog, { card: this.props.card, mode: "stamp" });
    }
    onClickRedeemStamps() {
        this.pos.dialog.add(PinPadDialog, { card: this.props.card, mode: "redeem_stamps" });
    }
    async onClickReward(rewardData) {
        if (this.adding) {
            return;
        }
        const reward = this.pos.models["loyalty_plus.reward"].get(rewardData.id);
        let result = _t("This reward is not available in this point of sale.");
        if (reward) {
            this.adding = true;
            try {
                result = await this.pos.lpAddReward(reward);
            } finally {
                this.adding = false;
            }
        }
        if (result !== true) {
            this.pos.dialog.add(AlertDialog, { title: _t("Reward not added"), body: result });
        }
    }
    onClickRemove() {
        this.order.lpRemoveCard();
    }
}
