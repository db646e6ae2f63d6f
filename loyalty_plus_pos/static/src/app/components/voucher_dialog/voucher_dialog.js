import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { lpErrorMessage } from "@loyalty_plus_pos/app/services/pos_store";

/**
 * A voucher code the customer brings (printed on an earlier receipt, sent by the app): the
 * server says what it gives, the till applies it; the code is used when the order is paid.
 */
export class VoucherDialog extends Component {
    static template = "loyalty_plus_pos.VoucherDialog";
    static components = { Dialog };
    static props = { close: Function };

    setup() {
        this.pos = usePos();
        this.codeRef = useRef("code");
        this.state = useState({ code: "", message: "", busy: false });
        onMounted(() => this.codeRef.el?.focus());
    }
    onCodeKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.apply();
        }
    }
    async apply() {
        if (this.state.busy) {
            return;
        }
        const code = this.state.code.trim();
        if (!code) {
            this.state.message = _t("Type the voucher code.");
            return;
        }
        this.state.busy = true;
        this.state.message = "";
        let voucher;
        try {
            voucher = await this.pos.lpReadVoucher(code);
        } catch (error) {
            this.state.message = lpErrorMessage(error);
            return;
        } finally {
            this.state.busy = false;
        }
        const added = this.pos.getOrder().lpAddVoucherLine(voucher);
        if (added !== true) {
            this.state.message = added;
            return;
        }
        this.props.close();
    }
}
