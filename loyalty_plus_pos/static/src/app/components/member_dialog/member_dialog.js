import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { Dialog } from "@web/core/dialog/dialog";
import { useService } from "@web/core/utils/hooks";
import { _t } from "@web/core/l10n/translation";
import { lpErrorMessage } from "@loyalty_plus_pos/app/services/pos_store";

/** Find a member (card number, email, phone, name) or enroll a new one at the till. */
export class MemberDialog extends Component {
    static template = "loyalty_plus_pos.MemberDialog";
    static components = { Dialog };
    static props = { close: Function };

    setup() {
        this.pos = usePos();
        this.notification = useService("notification");
        this.queryRef = useRef("query");
        this.state = useState({
            mode: "search",
            query: "",
            results: null,
            message: "",
            busy: false,
            form: {
                name: "",
                email: "",
                phone: "",
                birthday: "",
                referral_code: "",
                marketing_consent: false,
                terms_accepted: false,
            },
        });
        onMounted(() => this.queryRef.el?.focus());
    }
    get termsUrl() {
        return this.pos.lpProgram?.terms_url || "";
    }
    get termsQrSrc() {
        const query = new URLSearchParams({ barcode_type: "QR", value: this.termsUrl, width: 240, height: 240 });
        return `/report/barcode?${query}`;
    }
    get title() {
        return this.state.mode === "search" ? _t("Find a member") : _t("Enroll a member");
    }
    async search() {
        this.state.message = "";
        this.state.busy = true;
        try {
            this.state.results = await this.pos.lpSearch(this.state.query);
            if (!this.state.results.length) {
                this.state.message = _t("No card found for “%s”.", this.state.query);
            } else if (this.state.results.length === 1) {
                await this.select(this.state.results[0]);
            }
        } catch (error) {
            this.state.results = [];
            this.state.message = lpErrorMessage(error);
        } finally {
            this.state.busy = false;
        }
    }
    onQueryKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.search();
        }
    }
    async select(summary) {
        await this.pos.lpSelectCard(summary);
        this.props.close();
    }
    showEnroll() {
        this.state.mode = "enroll";
        this.state.message = "";
        const query = this.state.query.trim();
        if (query.includes("@")) {
            this.state.form.email = query;
        } else if (query && !/\d/.test(query)) {
            this.state.form.name = query;
        }
    }
    async enroll() {
        const form = this.state.form;
        if (!form.name.trim() || !form.email.trim()) {
            this.state.message = _t("Name and email are required.");
            return;
        }
        if (!form.terms_accepted) {
            this.state.message = _t("Show the customer the program terms: the card is created once they accept them.");
            return;
        }
        this.state.busy = true;
        this.state.message = "";
        try {
            const summary = await this.pos.lpEnroll({
                name: form.name.trim(),
                email: form.email.trim(),
                phone: form.phone.trim() || false,
                birthday: form.birthday || false,
                marketing_consent: form.marketing_consent,
                referral_code: form.referral_code.trim() || false,
            });
            await this.select(summary);
            this.notification.add(
                summary.created
                    ? _t("Card %s created.", summary.card_number)
                    : _t("This customer already has card %s.", summary.card_number),
                { type: "success" }
            );
            // the card stands; the cashier learns why the friend's code does not count
            if (summary.referral?.message) {
                this.notification.add(_t("Invitation code not counted: %s", summary.referral.message), {
                    type: "warning",
                    sticky: true,
                });
            }
        } catch (error) {
            this.state.message = lpErrorMessage(error);
        } finally {
            this.state.busy = false;
        }
    }
}
