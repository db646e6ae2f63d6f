import { PosOrderline } from "@point_of_sale/app/models/pos_order_line";
import { patch } from "@web/core/utils/patch";

/** Loyalty lines show what they give (the reward, the stamp card's item, the voucher), not the
 * technical product behind them. */
patch(PosOrderline.prototype, {
    get lpIsLoyaltyLine() {
        return Boolean(this.lp_reward_id || this.lp_stamp_reward || this.lp_voucher_code);
    },
    setFullProductName() {
        if (this.lpIsLoyaltyLine && this.full_product_name) {
            return;
        }
        super.setFullProductName(...arguments);
    },
    get orderDisplayProductName() {
        const display = super.orderDisplayProductName;
        if (this.lpIsLoyaltyLine && this.full_product_name) {
            return { ...display, name: this.full_product_name };
        }
        return display;
    },
});
