import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/**
 * The member's card on the order and the loyalty lines it pays for. The server decides what the
 * card can pay (before the line is added, before payment, and when the order syncs): the order
 * only builds the lines.
 */
patch(PosOrder.prototype, {
    initState() {
        super.initState(...arguments);
        // the summary of the card on the order, as the server last sent it
        this.uiState = {
            ...this.uiState,
            lpCard: this.uiState.lpCard || false,
            // what the order earns on its card, as the server last previewed it (lp_preview)
            lpPreview: this.uiState.lpPreview || false,
            lpPreviewKey: this.uiState.lpPreviewKey || false,
        };
    },
    get lpCard() {
        return this.uiState.lpCard || false;
    },
    get lpProgram() {
        return this.models["loyalty_plus.program"]?.getFirst();
    },
    get lpDiscountProduct() {
        return this.models["product.product"].get(this.config._lp_discount_product_id);
    },
    /** Put the card of ``summary`` on the order; the rewards of another card leave with it. */
    lpSetCard(summary) {
        if (this.lpCard && this.lpCard.id !== summary.id) {
            // the rewards on the order are the previous card's: that card would not pay them
            this.lpRemoveCard();
        }
        const [card] = this.models.connectNewData({
            "loyalty_plus.card": [{ id: summary.id, card_number: summary.card_number }],
        })["loyalty_plus.card"];
        this.lp_card_id = card;
        this.uiState.lpCard = summary;
    },
    /** A fresher summary of the order's card (after an operation, or carried by a refusal). */
    lpUpdateCard(summary) {
        if (summary && this.lpCard?.id === summary.id) {
            this.uiState.lpCard = summary;
        }
    },
    /** The order's lines as ``lp_preview`` takes them (returned goods are not a purchase). */
    get lpPreviewLines() {
        return this.lines
            .filter((l) => !l.refunded_orderline_id)
            .map((l) => ({
                product_id: l.product_id?.id || false,
                qty: l.qty,
                price_incl: l.priceIncl,
                price_excl: l.priceExcl,
                loyalty: Boolean(l.lpIsLoyaltyLine || l.lp_campaign_id),
            }));
    },
    /** What the preview depends on, or false when there is nothing to preview. */
    get lpPreviewKey() {
        const lines = this.lpPreviewLines;
        if (!this.lp_card_id || !lines.some((l) => !l.loyalty)) {
            return false;
        }
        return JSON.stringify([this.lp_card_id.id, lines]);
    },
    /** The staff approval of the stamps of this sale, given for the card now on the order. */
    get lpHasStampApproval() {
        return Boolean(this.lp_grant) && this.uiState.lpGrantCardId === this.lp_card_id?.id;
    },
    /** Keep the server's approval of the stamps of this sale (checked again when it syncs). */
    lpSetStampApproval(authorization) {
        this.lp_staff_pin_id = authorization.staff_pin_id
            ? this.models["loyalty_plus.staff_pin"].get(authorization.staff_pin_id)
            : false;
        this.lp_grant = authorization.grant;
        this.uiState.lpGrantCardId = this.lp_card_id?.id || false;
    },
    lpRemoveCard() {
        for (const line of this.lines.filter((l) => l.lp_reward_id || l.lp_stamp_reward)) {
            this.removeOrderline(line);
        }
        this.lp_card_id = false;
        this.uiState.lpCard = false;
        this.uiState.lpPreview = false;
    },
    /** The points rewards the order spends, one id per unit: each unit is a reward of its own. */
    get lpRewardIds() {
        return this.lines
            .filter((l) => l.lp_reward_id && l.qty > 0)
            .flatMap((l) => Array(Math.max(1, Math.round(l.qty))).fill(l.lp_reward_id.id));
    },
    /** The points the reward lines of the order already spend (paid when the order syncs). */
    get lpCommittedPoints() {
        return this.lines
            .filter((l) => l.lp_reward_id && l.qty > 0)
            .reduce((total, l) => total + l.lp_reward_id.points_cost * Math.max(1, Math.round(l.qty)), 0);
    },
    /** The free items of full stamp cards on the order. */
    get lpStampRewardCount() {
        return this.lines
            .filter((l) => l.lp_stamp_reward && l.qty > 0)
            .reduce((total, l) => total + Math.floor(l.qty), 0);
    },
    get lpVoucherCodes() {
        return this.lines.filter((l) => l.lp_voucher_code && l.qty > 0).map((l) => l.lp_voucher_code);
    },
    /**
     * A loyalty line of one ``product`` at a fixed ``price`` without taxes (its value is the
     * reward's, not the product's), with the Loyalty+ ``values``; a message when the product is
     * not in this point of sale.
     */
    lpCreateLoyaltyLine(product, price, values) {
        if (!product) {
            return _t("The product of this reward is not available in this point of sale.");
        }
        this.models["pos.order.line"].create({
            order_id: this,
            product_id: product,
            qty: 1,
            price_unit: price,
            price_type: "manual",
            tax_ids: [],
            ...values,
        });
        return true;
    },
    /**
     * Add the line of a points reward the server said the card pays. A voucher is kept for
     * later: its line is free, and the code the server issues when the order syncs is printed on
     * the receipt. Returns true, or why the line cannot be added.
     */
    lpAddRewardLine(reward) {
        let product = this.lpDiscountProduct;
        let price = 0;
        if (reward.reward_kind === "product") {
            product = reward.product_id;
        } else if (reward.reward_kind === "amount") {
            price = -Math.min(reward.discount_amount, Math.max(this.priceIncl, 0));
        } else if (reward.reward_kind === "percent") {
            price = -((Math.max(this.priceIncl, 0) * reward.discount_percent) / 100);
        }
        return this.lpCreateLoyaltyLine(product, price, {
            full_product_name: reward.name,
            lp_reward_id: reward,
            lp_card_id: this.lp_card_id,
        });
    },
    /**
     * Amount and percent rewards follow the order as it is now (products removed or changed
     * after the reward was added): their value is taken again, line by line, from what is
     * left of the other lines. Returns whether a line changed.
     */
    lpRefreshRewardLines() {
        let left = Math.max(
            this.lines.filter((l) => !l.lpIsLoyaltyLine).reduce((total, l) => total + l.priceIncl, 0),
            0
        );
        let changed = false;
        for (const line of this.lines.filter((l) => l.lpIsLoyaltyLine && l.qty > 0)) {
            const reward = line.lp_reward_id;
            let price = null;
            if (reward?.reward_kind === "amount") {
                price = -Math.min(reward.discount_amount, left);
            } else if (reward?.reward_kind === "percent") {
                price = -((left * reward.discount_percent) / 100);
            } else if (line.lp_voucher_code && line.price_unit < 0) {
                price = -Math.min(-line.price_unit, left);
            }
            if (price === null) {
                continue;
            }
            const before = line.priceIncl;
            line.setUnitPrice(price);
            changed ||= !this.currency.isZero(line.priceIncl - before);
            left = Math.max(left + line.priceIncl, 0);
        }
        return changed;
    },
    /**
     * Add the free item of a full stamp card, approved by ``authorization`` (the server checked
     * the PIN and the stamps for it). Returns true, or why the line cannot be added.
     */
    lpAddStampRewardLine(authorization) {
        const product = this.lpProgram?.stamps_reward_product_id || this.lpDiscountProduct;
        return this.lpCreateLoyaltyLine(product, 0, {
            full_product_name: authorization.card.stamp_reward || product?.display_name,
            lp_card_id: this.lp_card_id,
            lp_stamp_reward: true,
            lp_staff_pin_id: authorization.staff_pin_id
                ? this.models["loyalty_plus.staff_pin"].get(authorization.staff_pin_id)
                : false,
            lp_grant: authorization.grant,
        });
    },
    /** Apply a voucher code (the server read it); it is used when the paid order syncs. */
    lpAddVoucherLine(voucher) {
        if (this.lpVoucherCodes.includes(voucher.code)) {
            return _t("This voucher is already on the order.");
        }
        let product = this.lpDiscountProduct;
        let price = 0;
        const total = Math.max(this.priceIncl, 0);
        if (voucher.kind === "product") {
            product = this.models["product.product"].get(voucher.product_id);
        } else if (voucher.kind === "amount" || voucher.kind === "percent") {
            if (!total) {
                return _t("Add the products first: the voucher takes its value off the order.");
            }
            price =
                voucher.kind === "amount"
                    ? -Math.min(voucher.amount, total)
                    : -((total * voucher.percent) / 100);
        }
        return this.lpCreateLoyaltyLine(product, price, {
            full_product_name: voucher.description,
            lp_voucher_code: voucher.code,
        });
    },
});
