import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";
import { useBarcodeReader } from "@point_of_sale/app/hooks/barcode_reader_hook";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { lpErrorMessage } from "@loyalty_plus_pos/app/services/pos_store";

patch(ProductScreen.prototype, {
    setup() {
        super.setup(...arguments);
        useBarcodeReader({ loyalty_plus_card: this.lpOnCardBarcode });
    },
    lpIsProductBarcode(barcode) {
        return Boolean(
            this.pos.models["product.product"].getBy("barcode", barcode) ||
                this.pos.models["product.uom"]?.getBy("barcode", barcode)
        );
    },
    async lpOnCardBarcode(code) {
        const isQr = code.code.toUpperCase().startsWith("LPC");
        // a 12-digit product barcode (UPC-A) matches the card rule too: a product the till knows
        // is sold at once, without asking the server (which may be out of reach)
        if (!isQr && this.lpIsProductBarcode(code.code)) {
            return this._barcodeProductAction({ ...code, base_code: code.base_code || code.code });
        }
        let results = [];
        try {
            results = this.pos.lpProgram ? await this.pos.lpSearch(code.code) : [];
        } catch (error) {
            this.dialog.add(AlertDialog, { title: _t("Loyalty card refused"), body: lpErrorMessage(error) });
            return;
        }
        if (results.length === 1) {
            await this.pos.lpSelectCard(results[0]);
            return;
        }
        if (!isQr) {
            // a 12-digit product barcode (UPC-A) that is not one of our cards
            return this._barcodeProductAction(code);
        }
        this.barcodeReader.showNotFoundNotification(code);
    },
});
