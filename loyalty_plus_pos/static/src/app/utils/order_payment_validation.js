import OrderPaymentValidation from "@point_of_sale/app/utils/order_payment_validation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { lpErrorMessage } from "@loyalty_plus_pos/app/services/pos_store";

patch(OrderPaymentValidation.prototype, {
    async validateOrder(isForceValidate) {
        // The server deducts the points when the order syncs; ask it now whether the card still
        // pays for the rewards, while the customer is at the till.
        const rewardLines = this.order.lines.filter((line) => line.lp_reward_id && line.qty > 0);
        if (rewardLines.length && this.order.lp_card_id) {
            let check;
            try {
                check = await this.pos.data.call("pos.order", "lp_check_redemptions", [
                    this.pos.config.id,
                    this.order.lp_card_id.id,
                    rewardLines.map((line) => line.lp_reward_id.id),
                ]);
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
