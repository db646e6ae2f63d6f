import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { lpErrorMessage, lpRefusalCard } from "@loyalty_plus_pos/app/services/pos_store";

/**
 * Staff member + PIN, then the server stamps (or redeems a full stamp card). Focus stays inside
 * the dialog and Escape closes it (web Dialog); the PIN field opens the numeric keyboard.
 */
export class PinPadDialog extends Component {
    static template = "loyalty_plus_pos.PinPadDialog";
    static components = { Dialog };
    // mode "stamp", "redeem_stamps", or "sale": the stamps of the sale being paid, approved in
    // the payment flow (the approval goes back through ``getPayload``)
    static props = {
        card: Object,
        mode: { type: String, optional: true },
        close: Function,
        getPayload: { type: Function, optional: true },
    };
    static defaultProps = { mode: "stamp" };

    setup() {
        this.pos = usePos();
        this.pinRef = useRef("pin");
        const staff = this.pos.lpStaff;
        this.state = useState({
            staffId: staff.length === 1 ? staff[0].id : false,
            pin: "",
            message: "",
            busy: false,
            done: false,
            offerReward: false,
            added: "",
            card: this.props.card,
            // "Redeem now" after a stamp turns the stamping dialog into a redeeming one
            mode: this.props.mode,
        });
        this.keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"];
        onMounted(() => this.focusPin());
    }
    get title() {
        return {
            stamp: _t("Stamp the card"),
            sale: _t("Approve the stamps"),
        }[this.state.mode] || _t("Redeem the stamp card");
    }
    get staff() {
        return this.pos.lpStaff;
    }
    /** A program without staff PINs, in a shop with none set up: the server stamps without one. */
    get pinless() {
        return !this.pos.lpProgram?.require_staff_pin && !this.staff.length;
    }
    /** Who approves and the PIN, as the server takes them. */
    get credentials() {
        return this.pinless ? [false, false] : [this.state.staffId, this.state.pin];
    }
    keyLabel(key) {
        return { clear: _t("Clear"), back: _t("Delete last digit") }[key] || key;
    }
    focusPin() {
        this.pinRef.el?.focus();
    }
    selectStaff(staffId) {
        this.state.staffId = staffId;
        this.state.message = "";
        this.focusPin();
    }
    pressKey(key) {
        if (key === "clear") {
            this.state.pin = "";
        } else if (key === "back") {
            this.state.pin = this.state.pin.slice(0, -1);
        } else if (this.state.pin.length < 8) {
            this.state.pin += key;
        }
        this.focusPin();
    }
    onPinInput(ev) {
        this.state.pin = ev.target.value.replace(/\D/g, "").slice(0, 8);
        ev.target.value = this.state.pin;
    }
    onPinKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.confirm();
        }
    }
    async confirm() {
        if (this.state.busy) {
            return;
        }
        if (!this.pinless && !this.state.staffId) {
            this.state.message = _t("Choose who is stamping.");
            return;
        }
        if (!this.pinless && this.state.pin.length < 4) {
            this.state.message = _t("Type the PIN: 4 to 8 digits.");
            return;
        }
        if (this.state.mode === "stamp") {
            await this.run(() => this.pos.lpStamp(this.props.card, ...this.credentials));
        } else if (this.state.mode === "sale") {
            await this.approveSale();
        } else {
            await this.redeem();
        }
    }
    /** The stamps of the sale: the approval goes to the payment, which goes on. */
    async approveSale() {
        const result = await this.run(() => this.pos.lpAuthorizeSale(this.state.card, ...this.credentials));
        if (result) {
            this.props.getPayload?.(result);
            this.props.close();
        }
    }
    /** The free item goes on the order; the server spends the stamps when the order is paid. */
    async redeem() {
        this.state.mode = "redeem_stamps";
        if (!this.pinless && this.state.pin.length < 4) {
            // back to the PIN pad: an empty PIN would count as a wrong attempt
            this.state.done = false;
            this.state.message = _t("Type the PIN: 4 to 8 digits.");
            return;
        }
        const result = await this.run(() =>
            this.pos.lpAuthorizeStampReward(this.state.card, ...this.credentials)
        );
        if (!result) {
            return;
        }
        const added = this.pos.getOrder().lpAddStampRewardLine(result);
        if (added === true) {
            this.state.added = result.card.stamp_reward;
            this.state.offerReward = false;
        } else {
            this.state.message = added;
        }
    }
    updateCard(summary) {
        if (summary) {
            this.state.card = summary;
            this.pos.getOrder()?.lpUpdateCard(summary);
        }
    }
    async run(operation) {
        this.state.busy = true;
        this.state.message = "";
        let result;
        try {
            result = await operation();
        } catch (error) {
            this.state.message = lpErrorMessage(error);
            this.updateCard(lpRefusalCard(error));
            this.state.pin = "";
            // a refusal on the success screen ("Redeem now") goes back to the PIN pad
            this.state.done = false;
            this.focusPin();
            return false;
        } finally {
            this.state.busy = false;
        }
        this.updateCard(result.card);
        this.state.done = true;
        this.state.offerReward = Boolean(result.reward_ready);
        return result;
    }
}
