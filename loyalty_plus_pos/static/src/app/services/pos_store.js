import { PosStore } from "@point_of_sale/app/services/pos_store";
import { ConnectionLostError, RPCError } from "@web/core/network/rpc";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** The message of a refusal the server raised (UserError, AccessError...) or of a lost connection. */
export function lpErrorMessage(error) {
    if (error instanceof RPCError) {
        return error.data?.message || error.message;
    }
    if (error instanceof ConnectionLostError) {
        return _t("No connection to the server: try again when the till is back online.");
    }
    throw error;
}

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
    lpCardOf(order = this.getOrder()) {
        return order?.uiState.lpCard || false;
    },
    /** Cards matching a scan, number, email, phone or name (server search). */
    async lpSearch(query) {
        return await this.data.call("loyalty_plus.card", "pos_search", [query, this.config.id]);
    },
    /** Put the card on the order and select its customer. */
    async lpSetCard(summary, order = this.getOrder()) {
        if (!order) {
            return;
        }
        if (order.uiState.lpCard && order.uiState.lpCard.id !== summary.id) {
            // the rewards on the order are the previous card's: that card would not pay them
            this.lpRemoveCard(order);
        }
        const [card] = this.models.connectNewData({
            "loyalty_plus.card": [{ id: summary.id, card_number: summary.card_number }],
        })["loyalty_plus.card"];
        order.lp_card_id = card;
        order.uiState.lpCard = summary;
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
    lpUpdateCard(summary, order = this.getOrder()) {
        if (order?.uiState.lpCard?.id === summary.id) {
            order.uiState.lpCard = summary;
        }
    },
    lpRemoveCard(order = this.getOrder()) {
        for (const line of order.lines.filter((l) => l.lp_reward_id || l.lp_stamp_reward)) {
            order.removeOrderline(line);
        }
        order.lp_card_id = false;
        order.uiState.lpCard = false;
    },
    setPartnerToCurrentOrder(partner) {
        super.setPartnerToCurrentOrder(partner);
        const order = this.getOrder();
        if (!order || !this.lpProgram) {
            return;
        }
        if (!partner) {
            if (order.uiState.lpCard) {
                this.lpRemoveCard(order);
            }
            return;
        }
        if (order.uiState.lpCard?.partner_id === partner.id) {
            return;
        }
        // selecting a member shows the card; a lookup failure never blocks the sale
        this.data
            .call("loyalty_plus.card", "pos_card_for_partner", [partner.id, this.config.id])
            .then((summary) => {
                if (summary && order.getPartner()?.id === partner.id) {
                    this.lpSetCard(summary, order);
                } else if (!summary && order.uiState.lpCard) {
                    this.lpRemoveCard(order);
                }
            })
            .catch(() => {
                // the card shown belongs to the previous customer: never leave it on this order
                if (order.uiState.lpCard && order.getPartner()?.id === partner.id) {
                    this.lpRemoveCard(order);
                }
            });
    },
    get lpDiscountProduct() {
        return this.models["product.product"].get(this.config._lp_discount_product_id);
    },
    /**
     * Add the reward line of a points reward to the order. A voucher is kept for later: its line
     * is free, and the code the server issues when the order syncs is printed on the receipt.
     */
    lpAddRewardLine(reward, order = this.getOrder()) {
        const summary = order.uiState.lpCard;
        const card = order.lp_card_id;
        let product = this.lpDiscountProduct;
        let price = 0;
        if (reward.reward_kind === "product") {
            product = reward.product_id;
        } else if (reward.reward_kind === "amount") {
            price = -Math.min(reward.discount_amount, Math.max(order.priceIncl, 0));
        } else if (reward.reward_kind === "percent") {
            price = -((Math.max(order.priceIncl, 0) * reward.discount_percent) / 100);
        }
        if (!product) {
            return _t("The product of this reward is not available in this point of sale.");
        }
        const spent = order.lines
            .filter((l) => l.lp_reward_id)
            .reduce((total, l) => total + l.lp_reward_id.points_cost, 0);
        if (summary.points < spent + reward.points_cost) {
            return _t("Not enough points: the card has %(balance)s, this order already uses %(spent)s.", {
                balance: summary.points,
                spent,
            });
        }
        this.models["pos.order.line"].create({
            order_id: order,
            product_id: product,
            qty: 1,
            price_unit: price,
            price_type: "manual",
            tax_ids: [],
            full_product_name: reward.name,
            lp_reward_id: reward,
            lp_card_id: card,
        });
        return true;
    },
    /**
     * Amount and percent rewards follow the order as it is now (products removed or changed
     * after the reward was added): their value is taken again, line by line, from what is
     * left of the other lines. Returns whether a line changed.
     */
    lpRefreshRewardLines(order = this.getOrder()) {
        let left = Math.max(
            order.lines.filter((l) => !l.lpIsLoyaltyLine).reduce((total, l) => total + l.priceIncl, 0),
            0
        );
        let changed = false;
        for (const line of order.lines.filter((l) => l.lpIsLoyaltyLine && l.qty > 0)) {
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
    /** Check the PIN and the stamps; the stamps are spent when the paid order syncs. */
    async lpAuthorizeStampReward(card, staffId, pin, order = this.getOrder()) {
        return await this.data.call("loyalty_plus.card", "pos_authorize_stamp_reward", [
            [card.id],
            this.config.id,
            order.uuid,
        ], { staff_pin_id: staffId, pin });
    },
    lpStampRewardsOnOrder(order = this.getOrder()) {
        return order.lines
            .filter((l) => l.lp_stamp_reward && l.qty > 0)
            .reduce((total, l) => total + Math.floor(l.qty), 0);
    },
    /** Add the free item of a full stamp card, approved by ``authorization`` (server). */
    lpAddStampRewardLine(authorization, order = this.getOrder()) {
        const summary = authorization.card;
        const program = this.lpProgram;
        const needed = (this.lpStampRewardsOnOrder(order) + 1) * summary.stamps_target;
        if (summary.stamps < needed) {
            return _t("Not enough stamps: the card has %(stamps)s, this order already uses %(used)s.", {
                stamps: summary.stamps,
                used: needed - summary.stamps_target,
            });
        }
        const product = program?.stamps_reward_product_id || this.lpDiscountProduct;
        if (!product) {
            return _t("The product of this reward is not available in this point of sale.");
        }
        this.models["pos.order.line"].create({
            order_id: order,
            product_id: product,
            qty: 1,
            price_unit: 0,
            price_type: "manual",
            tax_ids: [],
            full_product_name: summary.stamp_reward || product.display_name,
            lp_card_id: order.lp_card_id,
            lp_stamp_reward: true,
            lp_staff_pin_id: authorization.staff_pin_id
                ? this.models["loyalty_plus.staff_pin"].get(authorization.staff_pin_id)
                : false,
            lp_grant: authorization.grant,
        });
        return true;
    },
    /** What a voucher code the customer brings gives (nothing is used before payment). */
    async lpReadVoucher(code) {
        return await this.data.call("pos.order", "lp_read_voucher", [this.config.id, code]);
    },
    /** Apply a voucher code; it is used on the server when the paid order syncs. */
    lpAddVoucherLine(voucher, order = this.getOrder()) {
        if (order.lines.some((l) => l.lp_voucher_code === voucher.code)) {
            return _t("This voucher is already on the order.");
        }
        let product = this.lpDiscountProduct;
        let price = 0;
        const total = Math.max(order.priceIncl, 0);
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
        if (!product) {
            return _t("The product of this reward is not available in this point of sale.");
        }
        this.models["pos.order.line"].create({
            order_id: order,
            product_id: product,
            qty: 1,
            price_unit: price,
            price_type: "manual",
            tax_ids: [],
            full_product_name: voucher.description,
            lp_voucher_code: voucher.code,
        });
        return true;
    },
    async lpStamp(card, staffId, pin) {
        return await this.data.call("loyalty_plus.card", "add_stamp", [[card.id]], {
            staff_pin_id: staffId,
            pin,
            shop_id: this.lpShopId,
        });
    },
    async lpEnroll(values) {
        return await this.data.call("loyalty_plus.card", "pos_enroll", [this.config.id], values);
    },
});
