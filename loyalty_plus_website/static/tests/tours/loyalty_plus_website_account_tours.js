import { registry } from "@web/core/registry";

/* An account from enrollment: the customer joins on the website, then follows the link of the
   welcome email (the test reads it from the queued mail.mail and starts the second tour on it). */

registry.category("web_tour.tours").add("loyalty_plus_website_account_enroll", {
    steps: () => [
        { content: "First name", trigger: "input#lp_first_name", run: "edit Anna" },
        { content: "Last name", trigger: "input#lp_last_name", run: "edit Weber" },
        { content: "Email", trigger: "input#lp_email", run: "edit anna.weber@example.com" },
        { content: "Phone", trigger: "input#lp_phone", run: "edit +352 621 000 777" },
        { content: "Accept the terms", trigger: "input#lp_terms", run: "check" },
        {
            content: "Join",
            trigger: "form.o_loyalty_plus_enrollment_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        { content: "The welcome page shows the card", trigger: ".o_loyalty_plus_card_number" },
        {
            content: "The welcome page offers the link to set a password",
            trigger: ".o_loyalty_plus_account_invite a.o_loyalty_plus_set_password[href*='token=']",
        },
    ],
});

registry.category("web_tour.tours").add("loyalty_plus_website_account_set_password", {
    steps: () => [
        {
            content: "The sign-up page knows the customer: the login is their email",
            trigger: "form.oe_signup_form input[name=login]:value(anna.weber@example.com)",
        },
        { content: "Password", trigger: "form.oe_signup_form input[name=password]", run: "edit Bakery-2026-pass" },
        {
            content: "Confirm the password",
            trigger: "form.oe_signup_form input[name=confirm_password]",
            run: "edit Bakery-2026-pass",
        },
        {
            content: "Create the account",
            trigger: "form.oe_signup_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The customer lands on their loyalty page and sees the card",
            trigger: ".o_loyalty_plus_cards .o_loyalty_plus_card .card-title:contains(Bakery Card)",
            run: () => {
                if (window.location.pathname !== "/my/loyalty") {
                    throw new Error(`landed on ${window.location.pathname}, not /my/loyalty`);
                }
            },
        },
    ],
});
