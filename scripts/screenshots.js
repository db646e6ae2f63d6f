// Capture the main Loyalty+ screens of a running demo with headless Chromium (playwright-core).
// Run through scripts/screenshots.sh, which installs playwright-core and passes the options.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const options = {
    url: process.env.LP_URL || "http://127.0.0.1:8069",
    db: process.env.LP_DB || "",
    out: process.env.LP_OUT || ".cache/screenshots",
    chromium: process.env.LP_CHROMIUM || "/usr/bin/chromium",
};
// The README's demo logins
const CASHIER = "esch_cashier";
const MANAGER = "bakery_manager";
const CUSTOMER = "camille.moreau@example.com";
const MEMBER_QUERY = "Camille Moreau";
const STAFF = { name: "Marc", pin: "2345" };
const JOIN_PATH = "/loyalty/boulangerie-letzebuerg/join";

const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

const failures = [];
const taken = [];

async function newPage(browser, viewport, lang) {
    const { width, height, ...device } = viewport;
    const context = await browser.newContext({ viewport: { width, height }, locale: lang || "en-US", ...device });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    page.on("pageerror", (error) => console.warn(`  page error on ${page.url()}: ${error.message}`));
    return page;
}

async function login(page, loginName, password) {
    const dbParam = options.db ? `?db=${encodeURIComponent(options.db)}` : "";
    await page.goto(`${options.url}/web/login${dbParam}`);
    await page.fill("input[name=login]", loginName);
    await page.fill("input[name=password]", password);
    await Promise.all([page.waitForNavigation(), page.click("form.oe_login_form button[type=submit]")]);
    if (page.url().includes("/web/login")) {
        throw new Error(`login ${loginName} refused`);
    }
}

async function rpc(page, model, method, args, kwargs = {}) {
    return page.evaluate(
        async ({ model, method, args, kwargs }) => {
            const response = await fetch("/web/dataset/call_kw", {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ jsonrpc: "2.0", method: "call", params: { model, method, args, kwargs } }),
            });
            const body = await response.json();
            if (body.error) {
                throw new Error(body.error.data ? body.error.data.message : body.error.message);
            }
            return body.result;
        },
        { model, method, args, kwargs }
    );
}

async function shot(page, name, { fullPage = true, locator = null } = {}) {
    const file = path.join(options.out, `${name}.png`);
    // let fonts, images and transitions settle
    await page.waitForLoadState("networkidle").catch(() => {});
    await page.waitForTimeout(400);
    if (locator) {
        await locator.screenshot({ path: file });
    } else {
        await page.screenshot({ path: file, fullPage });
    }
    taken.push(file);
    console.log(`  ${file}`);
}

// LP_ONLY="portal,POS": only the steps whose name holds one of these words
const only = (process.env.LP_ONLY || "").split(",").filter(Boolean);

async function step(name, fn) {
    if (only.length && !only.some((word) => name.includes(word))) {
        return;
    }
    console.log(name);
    try {
        await fn();
    } catch (error) {
        failures.push(`${name}: ${error.message.split("\n")[0]}`);
        console.error(`  FAILED: ${error.message.split("\n")[0]}`);
    }
}

async function websitePages(browser, viewport, suffix) {
    const page = await newPage(browser, viewport);
    try {
        await page.goto(`${options.url}${JOIN_PATH}`);
        await page.waitForSelector("form.o_loyalty_plus_enrollment_form");
        await shot(page, `enrollment-${suffix}`);
        // a new member each run: the address must be new to the merchant
        const stamp = Date.now().toString(36);
        await page.fill("#lp_first_name", "Lena");
        await page.fill("#lp_last_name", `Demo ${stamp}`);
        await page.fill("#lp_email", `lena.${stamp}.${suffix}@example.com`);
        await page.fill("#lp_phone", `+352 621 ${String(Date.now()).slice(-6, -3)} ${String(Date.now()).slice(-3)}`);
        await page.check("#lp_terms");
        await Promise.all([page.waitForNavigation(), page.click("form.o_loyalty_plus_enrollment_form button[type=submit]")]);
        if (await page.locator("#lp_error_summary").count()) {
            await shot(page, `enrollment-refused-${suffix}`);
            throw new Error(`enrollment refused: ${(await page.locator("#lp_error_summary").innerText()).trim()}`);
        }
        await shot(page, `success-${suffix}`);
    } finally {
        await page.context().close();
    }
}

async function frenchEnrollment(browser) {
    const page = await newPage(browser, DESKTOP, "fr-FR");
    try {
        await page.goto(`${options.url}/fr${JOIN_PATH}`);
        await page.waitForSelector("form.o_loyalty_plus_enrollment_form");
        await shot(page, "enrollment-fr-desktop");
    } finally {
        await page.context().close();
    }
}

async function portal(browser, viewport, suffix) {
    const page = await newPage(browser, viewport);
    try {
        await login(page, CUSTOMER, CUSTOMER);
        await page.goto(`${options.url}/my/loyalty`);
        await page.waitForSelector("#wrap");
        await shot(page, `portal-${suffix}`);
        // the card's own page: balance, vouchers, the code and link to invite friends, history
        await page.click("#wrap a[href^='/my/loyalty/']");
        await page.waitForSelector("#wrap");
        await shot(page, `portal-card-${suffix}`);
    } finally {
        await page.context().close();
    }
}

async function backend(browser) {
    const page = await newPage(browser, DESKTOP);
    try {
        await login(page, MANAGER, MANAGER);
        const [program] = await rpc(page, "loyalty_plus.program", "search_read", [[]], { fields: ["id"], limit: 1 });
        await page.goto(`${options.url}/odoo/action-loyalty_plus.loyalty_plus_program_action/${program.id}`);
        await page.waitForSelector(".o_form_view .o_form_sheet");
        await shot(page, "backend-program-form", { fullPage: false });
        const [card] = await rpc(page, "loyalty_plus.card", "search_read", [[["partner_id.name", "=", MEMBER_QUERY]]], {
            fields: ["id"],
            limit: 1,
        });
        await page.goto(`${options.url}/odoo/action-loyalty_plus.loyalty_plus_card_action/${card.id}`);
        await page.waitForSelector(".o_form_view .o_form_sheet");
        await shot(page, "backend-card-form", { fullPage: false });
    } finally {
        await page.context().close();
    }
}

async function pos(browser) {
    const page = await newPage(browser, DESKTOP);
    try {
        await login(page, CASHIER, CASHIER);
        const configs = await rpc(page, "pos.config", "search_read", [[]], { fields: ["id", "name"] });
        if (configs.length !== 1) {
            throw new Error(`the cashier sees ${configs.length} tills, expected the Esch till only`);
        }
        await page.goto(`${options.url}/pos/ui?config_id=${configs[0].id}`);
        // a closed session shows the opening screen, then asks for the opening cash
        const products = page.locator(".product-list article.product");
        const start = page.locator(".screen-login .open-register-btn");
        await Promise.race([products.first().waitFor({ timeout: 90000 }), start.waitFor({ timeout: 90000 })]);
        if (await start.count()) {
            await start.click();
            const openDialog = page.locator(".modal:not(.o_inactive_modal) .modal-footer .btn-primary");
            await Promise.race([products.first().waitFor(), openDialog.waitFor()]);
            if (await openDialog.count()) {
                await openDialog.click();
            }
        }
        await products.first().waitFor();
        await shot(page, "pos-products", { fullPage: false });

        // enrolling at the till: the terms shown to the customer, the friend's invitation code
        await page.click(".lp-member-button");
        await page.click(".lp-enroll-start");
        await page.fill(".lp-enroll-name", "Lena Weber");
        await page.fill(".lp-enroll-email", "lena.weber@example.com");
        await page.fill(".lp-enroll-phone", "621 555 010");
        await page.fill(".lp-enroll-referral", "CAMI-2345");
        await shot(page, "pos-enroll-dialog", { fullPage: false });
        await page.keyboard.press("Escape");
        await page.locator(".lp-member-dialog").waitFor({ state: "detached" });

        await page.click(".lp-member-button");
        await page.fill(".lp-member-query", MEMBER_QUERY);
        await page.click(".lp-member-search");
        await page.waitForSelector(".lp-card-panel");
        await shot(page, "pos-card-panel", { fullPage: false });
        await shot(page, "pos-card-panel-detail", { locator: page.locator(".lp-card-panel") });

        // a sale: the preview of what it earns, one PIN in the payment flow, the receipt
        await page.locator(".product-list article.product:has-text('Pain au chocolat')").click();
        await page.locator(".product-list article.product:has-text('Coffee')").click();
        await page.waitForSelector(".lp-card-panel .lp-earn-preview");
        await page.waitForTimeout(800); // the preview follows the lines after a short pause
        await shot(page, "pos-sale-preview", { locator: page.locator(".lp-card-panel") });
        await page.click(".product-screen .pay-order-button");
        await page.waitForSelector(".payment-screen");
        await page.locator(".paymentmethods .button.paymentmethod").first().click();
        await page.click(".payment-screen button.validation-button.next");
        const receipt = page.locator(".receipt-screen .pos-receipt");
        const pad = page.locator(".lp-pin-pad");
        await Promise.race([receipt.waitFor(), pad.waitFor()]);
        if (await pad.count()) {
            // the program asks a staff PIN for the stamps of a sale
            await page.click(`.lp-staff-member:has-text('${STAFF.name}')`);
            await shot(page, "pos-payment-pin", { fullPage: false });
            for (const digit of STAFF.pin) {
                await page.click(`.lp-pin-key[data-key='${digit}']`);
            }
            await page.click(".lp-pin-confirm");
        }
        await receipt.waitFor();
        await shot(page, "pos-receipt", { fullPage: false });
        await shot(page, "pos-receipt-detail", { locator: receipt });

        // a stamp without a sale: the Stamp button and its PIN pad (the sale's stamp was just
        // given: the cooldown answers, as it does at a till)
        await page.click(".receipt-screen .button.next.highlight[name='done']");
        await products.first().waitFor();
        await page.click(".lp-member-button");
        await page.fill(".lp-member-query", MEMBER_QUERY);
        await page.click(".lp-member-search");
        await page.waitForSelector(".lp-card-panel");
        await page.click(".lp-stamp-button");
        await page.waitForSelector(".lp-pin-pad");
        await page.click(`.lp-staff-member:has-text('${STAFF.name}')`);
        await shot(page, "pos-pin-pad", { fullPage: false });
        for (const digit of STAFF.pin) {
            await page.click(`.lp-pin-key[data-key='${digit}']`);
        }
        await page.click(".lp-pin-confirm");
        await page.waitForSelector(".lp-pin-success, .lp-pin-message:not(:empty)");
        await shot(page, "pos-pin-pad-result", { fullPage: false });
    } finally {
        await page.context().close();
    }
}

(async () => {
    fs.mkdirSync(options.out, { recursive: true });
    const browser = await chromium.launch({
        executablePath: options.chromium,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    try {
        await step("website, desktop: enrollment and success pages", () => websitePages(browser, DESKTOP, "desktop"));
        await step("website, phone: enrollment and success pages", () => websitePages(browser, PHONE, "phone"));
        await step("website, French enrollment page", () => frenchEnrollment(browser));
        await step("portal, desktop", () => portal(browser, DESKTOP, "desktop"));
        await step("portal, phone", () => portal(browser, PHONE, "phone"));
        await step("backend: program and card forms", () => backend(browser));
        await step("POS: card panel, PIN pad, receipt", () => pos(browser));
    } finally {
        await browser.close();
    }
    console.log(`${taken.length} screenshots in ${options.out}`);
    if (failures.length) {
        console.error(`${failures.length} failed:\n  ${failures.join("\n  ")}`);
        process.exit(1);
    }
})();
