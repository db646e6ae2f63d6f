import { OrderSummary } from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { CardPanel } from "@loyalty_plus_pos/app/components/card_panel/card_panel";

patch(OrderSummary, {
    components: { ...OrderSummary.components, CardPanel },
});

patch(OrderSummary.prototype, {
    /** A loyalty line is worth what its reward gives: it can be removed, never edited. */
    _setValue(val) {
        const line = this.currentOrder.getSelectedOrderline();
        if (line?.lpIsLoyaltyLine && !["", "remove"].includes(val)) {
            this.numberBuffer.reset();
            this.pos.notification.add(
                _t("A loyalty reward line cannot be changed: remove it and add the reward again."),
                { type: "warning" }
            );
            return;
        }
        return super._setValue(...arguments);
    },
});
