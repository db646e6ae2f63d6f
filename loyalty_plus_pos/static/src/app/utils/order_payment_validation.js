import OrderPaymentValidation from "@point_of_sale/app/utils/order_payment_validation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { lpErrorMessage } from "@loyalty_plus_pos/app/services/pos_store";

patch(OrderPaymentValidation.prototype, {
    async validateOrder(isForceValidate) {
        if (this.order.lines.some((line) => line.lpIsLoyaltyLine && line.qty > 0)) {
            // products removed after an amount or percent reward was added: the reward follows
            if (this.pos.lpRefreshRewardLines(this.order)) {
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
        const lines = this.order.lines.filter((line) => line.qty > 0);
        const card = this.order.lp_card_id;
        const rewardLines = card ? lines.filter((line) => line.lp_reward_id) : [];
        const stampRewards = card ? this.pos.lpStampRewardsOnOrder(this.order) : 0;
        const voucherCodes = lines.filter((line) => line.lp_voucher_code).map((l) => l.lp_voucher_code);
        if (rewardLines.length || stampRewards || voucherCodes.length) {
            let check;
            try {
                check = await this.pos.data.call(
                    "pos.order",
                    "lp_check_redemptions",
                    [
                        this.pos.config.id,
                        card?.id || false,
                        // each unit of a reward line is a reward of its own, paid with its points
                        rewardLines.flatMap((line) =>
                            Array(Math.max(1, Math.round(line.qty))).fill(line.lp_reward_id.id)
                        ),
                    ],
                    { stamp_rewards: stampRewards, voucher_codes: voucherCodes }
                );
            } catch (error) {
                check = { ok: false, message: lpErrorMessage(error) };
            }
            if (check.card) {
                this.pos.lpUpdateCard(check.card, this.order);
            }
            if (!check.ok) {
                this.pos.dialog.add(AlertDialog, {
                    title: _t("Reward refused"),
                    body: check.message,
                });
                return false;
            }
        }
        return await super.validateOrder(...arguments);
    },
});
