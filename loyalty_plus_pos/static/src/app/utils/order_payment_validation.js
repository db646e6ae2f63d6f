import OrderPaymentValidation from "@point_of_sale/app/utils/order_payment_validation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { ask, makeAwaitable } from "@point_of_sale/app/utils/make_awaitable_dialog";
import { PinPadDialog } from "@loyalty_plus_pos/app/components/pin_pad_dialog/pin_pad_dialog";
import { lpErrorMessage, lpRefusalCard } from "@loyalty_plus_pos/app/services/pos_store";

patch(OrderPaymentValidation.prototype, {
    async validateOrder(isForceValidate) {
        if (this.order.lines.some((line) => line.lpIsLoyaltyLine && line.qty > 0)) {
            // products removed after an amount or percent reward was added: the reward follows
            if (this.order.lpRefreshRewardLines()) {
                this.pos.dialog.add(AlertDialog, {
                    title: _t("Reward changed"),
                    body: _t(
                        "The order changed after the reward was added: its total is now %(total)s. Check the payment, then validate again.",
                        { total: this.pos.env.utils.formatCurrency(this.order.priceIncl) }
                    ),
                });
                return false;
            }
            if (this.pos.currency.isNegative(this.order.priceIncl)) {
                this.pos.dialog.add(AlertDialog, {
                    title: _t("Reward refused"),
                    body: _t("A reward cannot make the order total negative. Remove the reward line to go on."),
                });
                return false;
            }
        }
        // The server deducts points and stamps and uses voucher codes when the order syncs; ask
        // it now whether the card still pays for the rewards and the codes are still unused,
        // while the customer is at the till.
        const order = this.order;
        const card = order.lp_card_id;
        const rewardIds = card ? order.lpRewardIds : [];
        const stampRewards = card ? order.lpStampRewardCount : 0;
        const voucherCodes = order.lpVoucherCodes;
        if (rewardIds.length || stampRewards || voucherCodes.length) {
            try {
                order.lpUpdateCard(
                    await this.pos.lpCheckRedemptions(card?.id, rewardIds, { stampRewards, voucherCodes })
                );
            } catch (error) {
                // the card panel shows the balance that refused
                order.lpUpdateCard(lpRefusalCard(error));
                this.pos.dialog.add(AlertDialog, {
                    title: _t("Reward refused"),
                    body: lpErrorMessage(error),
                });
                return false;
            }
        }
        return await super.validateOrder(...arguments);
    },
    /** Once the payment is complete: the staff approval of the sale's stamps, when needed. */
    async isOrderValid(isForceValidate) {
        if (!(await super.isOrderValid(...arguments))) {
            return false;
        }
        return await this.lpApproveStamps();
    },
    /**
     * A sale that earns stamps on a program requiring a staff PIN: the cashier types it once,
     * here, and the order carries the server's approval. Without it the customer still gets
     * the points (the cashier confirms paying without stamps). Resolves to whether to go on.
     */
    async lpApproveStamps() {
        const order = this.order;
        if (!order.lpCard || order.lpHasStampApproval || order.getHasRefundLines()) {
            return true;
        }
        if (order.uiState.lpStampsDeclined === order.lp_card_id.id) {
            return true;
        }
        const preview = await this.pos.lpRefreshPreview(order);
        if (!preview?.pin_required) {
            return true;
        }
        const approval = await makeAwaitable(this.pos.dialog, PinPadDialog, {
            card: order.lpCard,
            mode: "sale",
        });
        if (approval) {
            order.lpSetStampApproval(approval);
            return true;
        }
        const withoutStamps = await ask(this.pos.dialog, {
            title: _t("Pay without stamps?"),
            body: _t("Without a staff PIN this sale earns no stamps."),
            confirmLabel: _t("Pay without stamps"),
            cancelLabel: _t("Back"),
        });
        if (withoutStamps) {
            order.uiState.lpStampsDeclined = order.lp_card_id.id;
        }
        return withoutStamps;
    },
});
