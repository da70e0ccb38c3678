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

  it("enrols two-step verification from /account with the QR page, then signs in with a code", async () => {
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
    const key = (await page.locator("#totp-secret").textContent()) ?? "";
    expect(key).toMatch(/^[A-Z2-7]{16,}=*$/);
    await screenshot(page, "account-mfa-setup");

    const secret = base32Decode(key);
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
