import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function enroll(name, email, referralCode) {
    return [
        { trigger: ".lp-member-button", run: "click" },
        { trigger: ".lp-enroll-start", run: "click" },
        { trigger: ".lp-enroll-name", run: `edit ${name}` },
        { trigger: ".lp-enroll-email", run: `edit ${email}` },
        { content: "the code as the customer reads it out", trigger: ".lp-enroll-referral", run: `edit ${referralCode}` },
        { trigger: ".lp-enroll-terms-accepted", run: "click" },
        { trigger: ".lp-enroll-confirm", run: "click" },
        { content: `card panel shows ${name}`, trigger: `.lp-card-panel:contains("${name}")` },
    ];
}

tours.add("loyalty_plus_pos_enroll_referral", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // Lea's code, typed in lower case with a dash: recorded, no notice
            enroll("Nora Invited", "nora.invited@example.com", "leac-2345"),
            { trigger: ".o_notification:contains('created')" },
            { trigger: "body:not(:has(.o_notification:contains('Invitation code not counted')))" },
            // a code of nobody: the card is created all the same, the cashier is told why the code did not count
            enroll("Otto Guess", "otto.guess@example.com", "ZZZZ9999"),
            { trigger: ".o_notification:contains('Invitation code not counted'):contains('ZZZZ9999')" },
        ].flat(),
});
