import { OrderReceipt } from "@point_of_sale/app/screens/receipt_screen/receipt/order_receipt";
import { generateQRCodeDataUrl } from "@point_of_sale/utils";
import { patch } from "@web/core/utils/patch";

patch(OrderReceipt.prototype, {
    /** The member's card page (the customer portal), printed as a QR code on the receipt. */
    get lpCardUrl() {
        return `${this.order.config._base_url}/my/loyalty`;
    },
    get lpCardQrCode() {
        return generateQRCodeDataUrl(this.lpCardUrl, { width: 100, height: 100 });
    },
});
