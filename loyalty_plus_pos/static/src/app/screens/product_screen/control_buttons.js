import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";
import { patch } from "@web/core/utils/patch";
import { MemberDialog } from "@loyalty_plus_pos/app/components/member_dialog/member_dialog";
import { VoucherDialog } from "@loyalty_plus_pos/app/components/voucher_dialog/voucher_dialog";

patch(ControlButtons.prototype, {
    lpOpenMemberDialog() {
        this.dialog.add(MemberDialog, {});
    },
    lpOpenVoucherDialog() {
        this.dialog.add(VoucherDialog, {});
    },
});
