import OrderPaymentValidation from "@point_of_sale/app/utils/order_payment_validation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
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
});
