import { PosStore } from "@point_of_sale/app/services/pos_store";
import { ConnectionLostError, RPCError } from "@web/core/network/rpc";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** The translated message of a refusal the server raised (UserError, AccessError...) or of a lost connection. */
export function lpErrorMessage(error) {
    if (error instanceof RPCError) {
        return error.data?.message || error.message;
    }
    if (error instanceof ConnectionLostError) {
        return _t("No connection to the server: try again when the till is back online.");
    }
    throw error;
}

/** The card summary a refusal carries (``context.card``): the balance that refused, or false. */
export function lpRefusalCard(error) {
    return (error instanceof RPCError && error.data?.context?.card) || false;
}

/** The server calls of the till; what they change on an order is the order's (models/pos_order.js). */
patch(PosStore.prototype, {
    get lpProgram() {
        return this.models["loyalty_plus.program"]?.getFirst();
    },
    get lpStaff() {
        return this.models["loyalty_plus.staff_pin"]?.getAll() || [];
    },
    get lpShopId() {
        return this.config.company_id.id;
    },
    /** Cards matching a scan, number, email, phone or name (server search). */
    async lpSearch(query) {
        return await this.data.call("loyalty_plus.card", "lp_search", [query, this.config.id]);
    },
    /** Put the card on the current order and select its customer. */
    async lpSelectCard(summary) {
        const order = this.getOrder();
        if (!order) {
            return;
        }
        order.lpSetCard(summary);
        if (summary.partner_id && order.getPartner()?.id !== summary.partner_id) {
            let partner = this.models["res.partner"].get(summary.partner_id);
            if (!partner) {
                [partner] = await this.data.read("res.partner", [summary.partner_id]);
            }
            if (partner && !order.getHasRefundLines()) {
                order.setPartner(partner);
            }
        }
    },
    setPartnerToCurrentOrder(partner) {
        super.setPartnerToCurrentOrder(partner);
        const order = this.getOrder();
        if (!order || !this.lpProgram) {
            return;
        }
        if (!partner) {
            if (order.lpCard) {
                order.lpRemoveCard();
            }
            return;
        }
        if (order.lpCard?.partner_id === partner.id) {
            return;
        }
        // selecting a member shows the card; a lookup failure never blocks the sale
        this.data
            .call("loyalty_plus.card", "lp_card_for_partner", [partner.id, this.config.id])
            .then((summary) => {
                if (summary && order.getPartner()?.id === partner.id) {
                    order.lpSetCard(summary);
                } else if (!summary && order.lpCard) {
                    order.lpRemoveCard();
                }
            })
            .catch(() => {
                // the card shown belongs to the previous customer: never leave it on this order
                if (order.lpCard && order.getPartner()?.id === partner.id) {
                    order.lpRemoveCard();
                }
            });
    },
    /**
     * Ask the server whether card ``cardId`` pays the rewards ``rewardIds`` (one id per unit)
     * and ``stampRewards`` full stamp cards, and whether ``voucherCodes`` are unused. Resolves
     * to the card's fresh summary (false without a card); rejects with the refusal, whose
     * ``context.card`` is the card's fresh summary (``lpRefusalCard``).
     */
    async lpCheckRedemptions(cardId, rewardIds, { stampRewards = 0, voucherCodes = [] } = {}) {
        const result = await this.data.call(
            "pos.order",
            "lp_check_redemptions",
            [this.config.id, cardId || false, rewardIds],
            { stamp_rewards: stampRewards, voucher_codes: voucherCodes }
        );
        return result.card;
    },
    /**
     * Add a points reward to the current order once the server said the card pays it on top of
     * the rewards already there. Returns true, or why it was not added.
     */
    async lpAddReward(reward) {
        const order = this.getOrder();
        try {
            order.lpUpdateCard(
                await this.lpCheckRedemptions(order.lp_card_id.id, [...order.lpRewardIds, reward.id])
            );
        } catch (error) {
            order.lpUpdateCard(lpRefusalCard(error));
            return lpErrorMessage(error);
        }
        return order.lpAddRewardLine(reward);
    },
    /**
     * Check the PIN and the stamps for one more free item on the current order; the stamps are
     * spent when the paid order syncs. Resolves to the approval ``lpAddStampRewardLine`` takes.
     */
    async lpAuthorizeStampReward(card, staffId, pin) {
        const order = this.getOrder();
        return await this.data.call(
            "loyalty_plus.card",
            "lp_authorize_stamp_reward",
            [[card.id], this.config.id, order.uuid],
            { staff_pin_id: staffId, pin, count: order.lpStampRewardCount + 1 }
        );
    },
    /**
     * What a voucher code the customer brings gives on the current order (nothing is used before
     * payment); the server refuses another member's voucher on a member's order.
     */
    async lpReadVoucher(code) {
        const cardId = this.getOrder()?.lp_card_id?.id || false;
        return await this.data.call("pos.order", "lp_read_voucher", [this.config.id, code], {
            card_id: cardId,
        });
    },
    /**
     * Check the PIN typed in the payment flow for the stamps of the current sale; resolves to
     * the approval the order carries to the server (``staff_pin_id``, ``grant``).
     */
    async lpAuthorizeSale(card, staffId, pin) {
        return await this.data.call(
            "loyalty_plus.card",
            "lp_authorize_sale",
            [[card.id], this.config.id, this.getOrder().uuid],
            { staff_pin_id: staffId, pin }
        );
    },
    /** Ask for the preview of ``order`` in ~300 ms (lines change in bursts while ringing up). */
    lpSchedulePreview(order) {
        clearTimeout(this.lpPreviewTimer);
        this.lpPreviewTimer = setTimeout(() => this.lpRefreshPreview(order), 300);
    },
    /**
     * What ``order`` earns on its card, as the server computes it (``lp_preview``), kept in
     * ``order.uiState.lpPreview`` for as long as the card and lines stay the same. Resolves to
     * the preview, or false (no card, no goods, or no answer: the sale goes on, the server
     * computes again when the order syncs).
     */
    async lpRefreshPreview(order) {
        clearTimeout(this.lpPreviewTimer);
        const key = order.lpPreviewKey;
        if (!key) {
            order.uiState.lpPreview = false;
            return false;
        }
        if (order.uiState.lpPreview && order.uiState.lpPreviewKey === key) {
            return order.uiState.lpPreview;
        }
        let preview = false;
        try {
            preview = await this.data.call("pos.order", "lp_preview", [
                this.config.id,
                order.lp_card_id.id,
                order.lpPreviewLines,
            ]);
        } catch (error) {
            lpErrorMessage(error); // anything else than a refusal or a lost connection is a bug
        }
        if (order.lpPreviewKey === key) {
            order.uiState.lpPreview = preview;
            order.uiState.lpPreviewKey = key;
        }
        return preview;
    },
    async lpStamp(card, staffId, pin) {
        return await this.data.call("loyalty_plus.card", "add_stamp", [[card.id]], {
            staff_pin_id: staffId,
            pin,
            shop_id: this.lpShopId,
        });
    },
    async lpEnroll(values) {
        return await this.data.call("loyalty_plus.card", "lp_enroll", [this.config.id], values);
    },
    /**
     * The campaigns running now for ``order`` (its card's tier; with a card, whether each
     * discount promotion applies to its lines), kept on the order for the card panel.
     */
    async lpRefreshCampaigns(order) {
        const cardId = order.lp_card_id?.id || false;
        const campaigns = await this.data.call("pos.order", "lp_active_campaigns", [this.config.id], {
            card_id: cardId,
            lines: cardId ? order.lpEngineLines : null,
        });
        if ((order.lp_card_id?.id || false) === cardId) {
            order.uiState.lpCampaigns = campaigns;
        }
        return campaigns;
    },
    /** Add the promotion ``campaignId`` to the current order once the server said it applies. */
    async lpApplyPromotion(campaignId) {
        const order = this.getOrder();
        try {
            const values = await this.data.call("pos.order", "lp_check_promotion", [
                this.config.id,
                order.lp_card_id?.id || false,
                campaignId,
                order.lpEngineLines,
            ]);
            return order.lpAddPromotionLine(values);
        } catch (error) {
            return lpErrorMessage(error);
        }
    },
});
