import { OrderSummary } from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";
import { patch } from "@web/core/utils/patch";
import { CardPanel } from "@loyalty_plus_pos/app/components/card_panel/card_panel";

patch(OrderSummary, {
    components: { ...OrderSummary.components, CardPanel },
});
