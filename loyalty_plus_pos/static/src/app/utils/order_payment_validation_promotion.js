import OrderPaymentValidation from "@point_of_sale/app/utils/order_payment_validation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { ConnectionLostError } from "@web/core/network/rpc";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { lpErrorMessage } from "@loyalty_plus_pos/app/services/pos_store";

patch(OrderPaymentValidation.prototype, {
    /**
     * The order may have changed since a promotion was added (a product removed, another card):
     * the server checks each promotion again on the order as it is, while the customer is at the
     * till. Offline, the sale goes on: the server records the promotion, or notes why not, when
     * the order syncs.
     */
    async validateOrder(isForceValidate) {
        const order = this.order;
        for (const line of order.lpPromotionLines) {
            try {
                await this.pos.data.call("pos.order", "lp_check_promotion", [
                    this.pos.config.id,
                    order.lp_card_id?.id || false,
                    line.lp_campaign_id.id,
                    order.lpEngineLines,
                ]);
            } catch (error) {
                if (error instanceof ConnectionLostError) {
                    break;
                }
                this.pos.dialog.add(AlertDialog, {
                    title: _t("Promotion refused"),
                    body: _t("%(reason)s Remove the line %(promotion)s to go on.", {
                        reason: lpErrorMessage(error),
                        promotion: line.full_product_name,
                    }),
                });
                return false;
            }
        }
        return await super.validateOrder(...arguments);
    },
});
