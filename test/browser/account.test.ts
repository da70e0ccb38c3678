/**
 * In a real Chromium against a listening app: enrolling 2FA from /account with the QR page,
 * then signing in with a code; and the login page with JavaScript disabled.
 */
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hotp, totpStep } from "../../src/auth/index.ts";
import {
  base32Decode, HAS_CHROMIUM, launchBrowser, screenshot, signInWithForm, SKIP_NOTE, startLiveApp, watchProblems, type LiveApp,
} from "./support.ts";

const EMAIL = "alice@example.com";
const PASSWORD = "alice rides the night train";
const STEP_MS = 30_000;

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "account pages in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let live: LiveApp | undefined;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());
  afterEach(async () => live?.t.close());

  it("enrols two-step verification from /account with the QR page (a wrong code keeps the same key), then signs in with a code", async () => {
    live = await startLiveApp();
    const { t, origin } = live;
    await t.createUser(EMAIL, PASSWORD);
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);

    await signInWithForm(page, origin, EMAIL, PASSWORD);
    await page.waitForURL(`${origin}/account`);
    await page.getByRole("button", { name: "Set up two-step verification" }).click();
    await page.waitForURL(`${origin}/account/mfa/setup`);
    expect(problems).toEqual([]);
    expect(await page.locator(".qr svg").count()).toBe(1);
    // Shown in groups of four, as people type it.
    const grouped = (await page.locator("#totp-secret").textContent()) ?? "";
    expect(grouped).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const key = grouped.replace(/ /g, "");
    expect(key.length).toBeGreaterThanOrEqual(16);
    await screenshot(page, "account-mfa-setup");

    const secret = base32Decode(key);
    // A typo: the page keeps the QR code and the same key, so the entry already added still works.
    const qr = await page.locator(".qr svg").innerHTML();
    const wrong = hotp(secret, totpStep(t.clock.now()) + 5);
    await page.getByLabel("The 6-digit code your app shows now").fill(wrong);
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.waitForURL(`${origin}/account/mfa/confirm`);
    expect(await page.getByRole("alert").textContent()).toContain("That code did not match");
    expect(((await page.locator("#totp-secret").textContent()) ?? "").replace(/ /g, "")).toBe(key);
    expect(await page.locator(".qr svg").innerHTML()).toBe(qr);
    // The app's clock is the test's: the authenticator computes the code for its time.
    await page.getByLabel("The 6-digit code your app shows now").fill(hotp(secret, totpStep(t.clock.now())));
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.waitForURL(`${origin}/account/mfa/confirm`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Two-step verification is on");
    expect(await page.locator("#recovery-codes li").count()).toBe(10);

    // A code is single use: the next sign-in happens one time step later.
    t.clock.advance(STEP_MS);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${origin}/login?signed_out=1`);
    expect(await page.getByRole("status").textContent()).toBe("You are signed out.");
    await signInWithForm(page, origin, EMAIL, PASSWORD);
    await page.waitForURL(`${origin}/login/mfa`);
    await page.getByLabel("Code from your authenticator app, or a recovery code").fill(hotp(secret, totpStep(t.clock.now())));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(`${origin}/account`);
    expect(await page.locator("#mfa-heading + p .badge").textContent()).toBe("On");
    expect(await page.locator("#recovery-left").textContent()).toContain("Recovery codes left: 10 of 10");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("signs in with a recovery code typed on a phone keyboard, sees how many are left, and makes new ones with the password", async () => {
    live = await startLiveApp();
    const { t, origin } = live;
    await t.createUser(EMAIL, PASSWORD);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await signInWithForm(page, origin, EMAIL, PASSWORD);
    await page.waitForURL(`${origin}/account`);
    await page.getByRole("button", { name: "Set up two-step verification" }).click();
    const secret = base32Decode(((await page.locator("#totp-secret").textContent()) ?? "").replace(/ /g, ""));
    await page.getByLabel("The 6-digit code your app shows now").fill(hotp(secret, totpStep(t.clock.now())));
    await page.getByRole("button", { name: "Turn on" }).click();
    const first = await page.locator("#recovery-codes li").allTextContents();
    expect(first).toHaveLength(10);

    await page.getByRole("button", { name: "Sign out" }).click();
    await signInWithForm(page, origin, EMAIL, PASSWORD);
    await page.waitForURL(`${origin}/login/mfa`);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    const field = page.getByLabel("Code from your authenticator app, or a recovery code");
    // Letters must be typeable: no numeric-only keyboard.
    expect(await field.getAttribute("inputmode")).not.toBe("numeric");
    await field.fill(first[0] ?? "");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(`${origin}/account`);
    expect(await page.locator("#recovery-left").textContent()).toContain("Recovery codes left: 9 of 10");

    await page.getByLabel("Password, to make new recovery codes (the old ones stop working)").fill("not the password");
    await page.getByRole("button", { name: "Make new recovery codes" }).click();
    expect(await page.getByRole("alert").textContent()).toContain("Your recovery codes did not change");
    await page.getByLabel("Password, to make new recovery codes (the old ones stop working)").fill(PASSWORD);
    await page.getByRole("button", { name: "Make new recovery codes" }).click();
    await page.waitForURL(`${origin}/account/mfa/recovery-codes`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("New recovery codes");
    const second = await page.locator("#recovery-codes li").allTextContents();
    expect(second).toHaveLength(10);
    for (const code of second) expect(first).not.toContain(code);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await screenshot(page, "account-new-recovery-codes");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("signs in on the login page with JavaScript disabled, and shows the generic error first", async () => {
    live = await startLiveApp();
    const { t, origin } = live;
    await t.createUser(EMAIL, PASSWORD);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const problems = watchProblems(page);

    await signInWithForm(page, origin, EMAIL, "not-the-password");
    await page.waitForURL(`${origin}/login`);
    expect(await page.getByRole("alert").textContent()).toContain("Incorrect e-mail or password");
    expect(await page.getByLabel("E-mail").inputValue()).toBe(EMAIL);

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${origin}/account`);
    expect(await page.getByRole("main").textContent()).toContain(EMAIL);
    expect(await page.locator("script").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
