import { registry } from "@web/core/registry";

const AXE_URL = "/web/content/loyalty_plus_website.axe_core_test";
const BLOCKING_IMPACTS = ["critical", "serious"];

/** A step that runs axe-core on the current page and fails on critical or serious violations. */
function axeStep(trigger, pageName) {
    return {
        content: `axe-core finds no critical or serious violation on the ${pageName} page`,
        trigger,
        run: async () => {
            if (!window.axe) {
                const response = await fetch(AXE_URL);
                const source = await response.text();
                if (!response.ok || !source.includes("axe")) {
                    throw new Error(`axe-core could not be loaded from ${AXE_URL} (${response.status})`);
                }
                const script = document.createElement("script");
                script.textContent = source;
                document.head.appendChild(script);
            }
            if (!window.axe) {
                throw new Error("axe-core did not load");
            }
            const results = await window.axe.run(document, { resultTypes: ["violations"], preload: false });
            const blocking = results.violations.filter((v) => BLOCKING_IMPACTS.includes(v.impact));
            if (blocking.length) {
                const report = blocking
                    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`)
                    .join("; ");
                throw new Error(`axe-core violations on the ${pageName} page: ${report}`);
            }
            console.info(`axe-core: ${pageName} page clean (${results.violations.length} minor findings)`);
        },
    };
}

/** Date inputs take an ISO value; typing into them depends on the browser's locale. */
function setDateStep(value) {
    return {
        content: `Birthday ${value || "(cleared)"}`,
        trigger: "input#lp_birthday",
        run: () => {
            const input = document.querySelector("input#lp_birthday");
            input.value = value;
            input.dispatchEvent(new Event("input", { bubbles: true }));
            input.dispatchEvent(new Event("change", { bubbles: true }));
        },
    };
}

function fillForm({ firstName, lastName, email, phone, birthday = "", lang = "en_US" }) {
    return [
        { content: "First name", trigger: "input#lp_first_name", run: `edit ${firstName}` },
        { content: "Last name", trigger: "input#lp_last_name", run: `edit ${lastName}` },
        { content: "Email", trigger: "input#lp_email", run: `edit ${email}` },
        { content: "Phone", trigger: "input#lp_phone", run: `edit ${phone}` },
        ...(birthday ? [setDateStep(birthday)] : []),
        { content: "Language", trigger: "select#lp_lang", run: `select ${lang}` },
    ];
}

function submitStep() {
    return {
        content: "Submit the enrollment form",
        trigger: "form.o_loyalty_plus_enrollment_form button[type=submit]",
        run: "click",
        expectUnloadPage: true,
    };
}

/** Every visible control of the form can be reached with the Tab key, in reading order. */
function keyboardStep() {
    return {
        content: "Every visible form control is reachable with the keyboard",
        trigger: "form.o_loyalty_plus_enrollment_form",
        run: () => {
            const form = document.querySelector("form.o_loyalty_plus_enrollment_form");
            const controls = [...form.querySelectorAll("input, select, button, a[href]")].filter(
                (el) => el.type !== "hidden" && el.offsetParent !== null
            );
            const blocked = controls.filter((el) => el.tabIndex < 0 || el.disabled);
            if (blocked.length) {
                throw new Error(`not reachable by keyboard: ${blocked.map((el) => el.id || el.name).join(", ")}`);
            }
            if (form.querySelector("[tabindex]:not([tabindex='-1']):not([tabindex='0'])")) {
                throw new Error("a positive tabindex breaks the reading order");
            }
            const honeypot = form.querySelector("input[name=website_homepage]");
            if (!honeypot || honeypot.offsetParent !== null) {
                throw new Error("the honeypot must exist and stay out of sight");
            }
        },
    };
}

registry.category("web_tour.tours").add("loyalty_plus_website_enroll_new", {
    steps: () => [
        keyboardStep(),
        { content: "The terms link points to the program terms", trigger: "label[for=lp_terms] a[href$='/terms']" },
        { content: "Marketing consent starts unticked", trigger: "input#lp_marketing:not(:checked)" },
        axeStep("form.o_loyalty_plus_enrollment_form", "enrollment"),
        ...fillForm({
            firstName: "Marie",
            lastName: "Hoffmann",
            email: "marie.hoffmann@example.com",
            phone: "+352 621 000 222",
            birthday: "1985-06-30",
        }),
        { content: "Accept the terms", trigger: "input#lp_terms", run: "check" },
        submitStep(),
        { content: "The welcome page shows the card number", trigger: ".o_loyalty_plus_card_number:contains(/\\d{4} \\d{4} \\d{4}/)" },
        { content: "The QR code is an SVG image", trigger: "img.o_loyalty_plus_qr[src^='data:image/svg+xml']" },
        { content: "The card is also on its way by email", trigger: ".o_loyalty_plus_card_by_email" },
        {
            content: "A new customer is offered to set a password for their account, not sent into a sign-in",
            trigger: ".o_loyalty_plus_account_invite a.o_loyalty_plus_set_password[href^='/web/signup?']",
        },
        axeStep(".o_loyalty_plus_welcome", "success"),
    ],
});

registry.category("web_tour.tours").add("loyalty_plus_website_enroll_invalid", {
    steps: () => [
        submitStep(),
        { content: "The error summary is announced", trigger: "#lp_error_summary[role=alert]" },
        {
            content: "The focus moves to the error summary",
            trigger: "#lp_error_summary",
            run: () => {
                if (document.activeElement?.id !== "lp_error_summary") {
                    throw new Error(`focus is on ${document.activeElement?.tagName}#${document.activeElement?.id}`);
                }
            },
        },
        { content: "First name message", trigger: "#lp_first_name[aria-invalid=true][aria-describedby~=lp_first_name_error]" },
        { content: "First name text", trigger: "#lp_first_name_error:contains(Enter your first name.)" },
        { content: "Last name message", trigger: "#lp_last_name_error:contains(Enter your last name.)" },
        { content: "Email message", trigger: "#lp_email_error:contains(Enter your email address.)" },
        { content: "Phone message", trigger: "#lp_phone_error:contains(Enter your phone number.)" },
        { content: "Terms message", trigger: "#lp_terms_error:contains(Accept the program terms to join.)" },
        { content: "The summary links to the field", trigger: "#lp_error_summary a[href='#lp_email']" },
        axeStep("#lp_error_summary", "enrollment (with errors)"),
        ...fillForm({
            firstName: "Paul",
            lastName: "Kieffer",
            email: "paul.kieffer.example.com",
            phone: "call me",
            birthday: "2999-01-01",
        }),
        { content: "Accept the terms", trigger: "input#lp_terms", run: "check" },
        submitStep(),
        { content: "Typed values are kept", trigger: "#lp_first_name:value(Paul)" },
        { content: "Email format message", trigger: "#lp_email[aria-invalid=true] ~ #lp_email_error:contains(name@example.com)" },
        { content: "Phone format message", trigger: "#lp_phone_error:contains(at least 6 digits)" },
        { content: "Birthday in the future", trigger: "#lp_birthday_error:contains(real date in the past)" },
        { content: "Terms are no longer in error", trigger: "body:not(:has(#lp_terms_error))" },
        { content: "Correct the email", trigger: "input#lp_email", run: "edit paul.kieffer@example.com" },
        { content: "Correct the phone", trigger: "input#lp_phone", run: "edit +352 621 000 333" },
        setDateStep("1850-01-01"),
        submitStep(),
        { content: "Age range message", trigger: "#lp_birthday_error:contains(age 6 to 120)" },
        { content: "Only the birthday is in error", trigger: "#lp_error_summary li:only-child" },
        { content: "The terms box must be ticked again", trigger: "input#lp_terms:checked" },
        { content: "Untick the terms", trigger: "input#lp_terms", run: "uncheck" },
        setDateStep(""),
        submitStep(),
        { content: "Terms message alone", trigger: "#lp_terms_error:contains(Accept the program terms)" },
        { content: "Only the terms are in error", trigger: "#lp_error_summary li:only-child" },
    ],
});

registry.category("web_tour.tours").add("loyalty_plus_website_enroll_again_every_shop", {
    steps: () => [
        ...fillForm({
            firstName: "Other",
            lastName: "Person",
            email: "lea.portal@example.com",
            phone: "+352 621 000 444",
        }),
        { content: "Accept the terms", trigger: "input#lp_terms", run: "check" },
        submitStep(),
        { content: "Already a member", trigger: ".o_loyalty_plus_already_member" },
        { content: "The card works in every shop", trigger: ".o_loyalty_plus_shop_list li:contains(Web Bakery Esch)" },
        { content: "All three shops are listed", trigger: ".o_loyalty_plus_shop_list:has(li:nth-child(3))" },
        { content: "No card number is shown", trigger: "body:not(:has(.o_loyalty_plus_card_number))" },
        axeStep(".o_loyalty_plus_welcome", "already a member"),
    ],
});

registry.category("web_tour.tours").add("loyalty_plus_website_enroll_again_per_shop", {
    steps: () => [
        ...fillForm({
            firstName: "Lea",
            lastName: "Portal",
            email: "lea.portal@example.com",
            phone: "+352 621 000 555",
        }),
        { content: "Accept the terms", trigger: "input#lp_terms", run: "check" },
        submitStep(),
        { content: "A new card for this shop", trigger: ".o_loyalty_plus_card_number" },
        { content: "It is valid in this shop only", trigger: "p:contains(Valid in Web Bakery Differdange)" },
    ],
});

registry.category("web_tour.tours").add("loyalty_plus_website_portal", {
    steps: () => [
        { content: "The portal lists the card", trigger: ".o_loyalty_plus_card .o_loyalty_plus_points:contains(140)" },
        axeStep(".o_loyalty_plus_cards", "portal cards"),
        { content: "Open the card", trigger: ".o_loyalty_plus_card a.btn-primary", run: "click", expectUnloadPage: true },
        { content: "The QR code is shown", trigger: "img.o_loyalty_plus_qr[src^='data:image/svg+xml']" },
        { content: "Stamps progress", trigger: ".o_loyalty_plus_stamps:contains(2 / 5)" },
        { content: "Tier progress", trigger: ".o_loyalty_plus_tier:contains(points to Silver)" },
        { content: "A reward redeemable now", trigger: ".o_loyalty_plus_rewards li:contains(Free croissant) .o_loyalty_plus_redeemable" },
        { content: "A reward out of reach", trigger: ".o_loyalty_plus_rewards li:contains(Birthday cake):not(:has(.o_loyalty_plus_redeemable))" },
        { content: "Ten visits", trigger: ".o_loyalty_plus_history:has(.o_loyalty_plus_visit:nth-child(10)):not(:has(.o_loyalty_plus_visit:nth-child(11)))" },
        axeStep(".o_loyalty_plus_history", "portal card"),
        {
            content: "The printable card carries the card number and the QR code",
            trigger: "a.o_loyalty_plus_print",
            run: async () => {
                const link = document.querySelector("a.o_loyalty_plus_print");
                const number = document.querySelector(".o_loyalty_plus_card_number").textContent.trim();
                const response = await fetch(link.getAttribute("href"));
                const html = await response.text();
                if (!response.ok || !html.includes(number) || !html.includes("data:image/svg+xml")) {
                    throw new Error(`printable card: ${response.status}, card number or QR code missing`);
                }
            },
        },
        { content: "Next history page", trigger: ".o_portal_pager a:contains(2)", run: "click", expectUnloadPage: true },
        { content: "The second page holds the rest", trigger: ".o_loyalty_plus_history:has(.o_loyalty_plus_visit:nth-child(2)):not(:has(.o_loyalty_plus_visit:nth-child(3)))" },
    ],
});

/** Nothing wider than the screen: a phone reads the page without scrolling sideways. */
function noSidewaysScrollStep(trigger, pageName) {
    return {
        content: `The ${pageName} page fits the width of the screen`,
        trigger,
        run: () => {
            const width = document.documentElement.clientWidth;
            const wider = [...document.querySelectorAll("#wrap *")].filter(
                (el) => el.getBoundingClientRect().right > width + 1 && el.offsetParent !== null
            );
            if (document.documentElement.scrollWidth > width + 1 || wider.length) {
                const names = wider.slice(0, 5).map((el) => `${el.tagName}.${el.className}`);
                throw new Error(`the ${pageName} page is wider than ${width}px: ${names.join(", ")}`);
            }
        },
    };
}

registry.category("web_tour.tours").add("loyalty_plus_website_portal_fr_phone", {
    steps: () => [
        { content: "The card's name in French", trigger: "h1:contains(Carte de la boulangerie)" },
        { content: "The stamp reward in French", trigger: ".o_loyalty_plus_stamp_reward:contains(Viennoiserie offerte)" },
        { content: "The next tier in French", trigger: ".o_loyalty_plus_tier:contains(Argent)" },
        { content: "A reward in French", trigger: ".o_loyalty_plus_rewards li:contains(Gâteau d'anniversaire)" },
        { content: "The voucher to use, in French", trigger: ".o_loyalty_plus_voucher_issued:contains(Croissant offert) .o_loyalty_plus_voucher_code" },
        { content: "The points' expiry date", trigger: ".o_loyalty_plus_points_expiry strong" },
        { content: "One row per visit", trigger: ".o_loyalty_plus_history:has(.o_loyalty_plus_visit:nth-child(4)):not(:has(.o_loyalty_plus_visit:nth-child(5)))" },
        noSidewaysScrollStep(".o_loyalty_plus_history", "portal card"),
        axeStep(".o_loyalty_plus_history", "portal card (French, phone)"),
    ],
});

registry.category("web_tour.tours").add("loyalty_plus_website_platform_pages", {
    steps: () => [
        axeStep(".o_loyalty_plus_platform h1", "Loyalty+ home"),
        { content: "Get started", trigger: "a.o_loyalty_plus_get_started_link", run: "click", expectUnloadPage: true },
        axeStep("form#loyalty_plus_get_started_form", "Loyalty+ get started"),
        { content: "Business", trigger: "input#lp_request_business", run: "edit Boulangerie Tour" },
        { content: "Shops", trigger: "input#lp_request_shops", run: "edit 3" },
        { content: "Contact", trigger: "input#lp_request_contact", run: "edit Nora Tour" },
        { content: "Email", trigger: "input#lp_request_email", run: "edit nora.tour@example.com" },
        { content: "Plan", trigger: "select#lp_request_plan", run: "select growth" },
        { content: "Message", trigger: "textarea#lp_request_message", run: "edit Stamps for coffee, points for cakes." },
        { content: "Send", trigger: "a.s_website_form_send", run: "click", expectUnloadPage: true },
        { content: "The thank-you page", trigger: ".o_loyalty_plus_thank_you h1" },
        axeStep(".o_loyalty_plus_thank_you", "Loyalty+ thank you"),
    ],
});

/** axe on the Loyalty+ page the tour starts on. */
registry.category("web_tour.tours").add("loyalty_plus_website_platform_page_axe", {
    steps: () => [axeStep(".o_loyalty_plus_platform h1", "Loyalty+")],
});
