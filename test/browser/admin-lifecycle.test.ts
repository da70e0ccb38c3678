/**
 * The user lifecycle in a real Chromium, with mails through a real SMTP server: an admin
 * invites a user who sets a password from the mailed link (on a phone) and signs in; an admin
 * resets the 2FA of a user who lost the phone, who then signs in without a code and enrols
 * again; an admin disables a user through the confirmation page with a note, shown on the
 * user's page.
 */
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hotp, totpStep } from "../../src/auth/index.ts";
import { listEvents } from "../../src/store/index.ts";
import { createHarness, PUBLIC_URL, type Harness } from "../notify/harness.ts";
import { enroll, PASSWORD as MFA_PASSWORD } from "../mfa/helpers.ts";
import { base32Decode, HAS_CHROMIUM, launchBrowser, screenshot, signInWithForm, SKIP_NOTE, watchProblems } from "./support.ts";

const ADMIN = "root@example.com";
const ADMIN_PASSWORD = "admin-password-1";
const INVITED = "ann@example.com";
const ANN_PASSWORD = "ann chooses a long passphrase";

/** The harness's app (real SMTP, dispatcher on the test clock) listening on a free port. */
async function startLive(): Promise<{ h: Harness; origin: string }> {
  const h = await createHarness("sqlite");
  await h.t.app.listen({ port: 0, host: "127.0.0.1" });
  return { h, origin: `http://127.0.0.1:${(h.t.app.server.address() as AddressInfo).port}` };
}

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "user lifecycle in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let h: Harness | undefined;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());
  afterEach(async () => h?.close());

  it("invites a user from the console; the user sets a password from the mail on a phone and signs in", async () => {
    const live = await startLive();
    h = live.h;
    const { t } = h;
    await t.createUser(ADMIN, ADMIN_PASSWORD, "admin");
    const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await admin.newPage();
    const problems = watchProblems(page);
    await signInWithForm(page, live.origin, ADMIN, ADMIN_PASSWORD);
    await page.waitForURL(`${live.origin}/admin`);
    await page.goto(`${live.origin}/admin/users`);
    // Only the admin exists, so the form is already open.
    await page.locator("#add-user").getByLabel("E-mail").fill(INVITED);
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}\?done=invited/);
    expect(await page.getByRole("status").textContent()).toContain(`${INVITED} was created and is being mailed a link`);
    expect(problems).toEqual([]);
    await admin.close();

    // The admin's own sign-in from a new browser has its notice too; the invited user gets one mail.
    await h.drain();
    expect(h.smtp.to(INVITED)).toHaveLength(1);
    const [mail] = h.smtp.to(INVITED);
    const link = /https?:\/\/\S+\/set-password\?token=[A-Za-z0-9_-]+/.exec(mail?.text ?? "")?.[0] ?? "";
    expect(link.startsWith(`${PUBLIC_URL}/set-password?token=`)).toBe(true);

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const annPage = await phone.newPage();
    const annProblems = watchProblems(annPage);
    await annPage.goto(link.replace(PUBLIC_URL, live.origin));
    expect(await annPage.getByRole("heading", { level: 1 }).textContent()).toBe("Choose your password");
    expect(await annPage.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await annPage.getByLabel("New password", { exact: true }).fill(ANN_PASSWORD);
    await annPage.getByLabel("New password again").fill(ANN_PASSWORD);
    await annPage.getByRole("button", { name: "Set my password" }).click();
    expect(await annPage.getByRole("heading", { level: 1 }).textContent()).toBe("Password set");
    await signInWithForm(annPage, live.origin, INVITED, ANN_PASSWORD);
    await annPage.waitForURL(`${live.origin}/account`);
    expect(await annPage.getByRole("main").textContent()).toContain(INVITED);
    await screenshot(annPage, "invited-account-390");
    expect(annProblems).toEqual([]);
    await phone.close();
  });

  it("resets a user's 2FA after confirming; the user signs in without a code and can enrol again", async () => {
    const live = await startLive();
    h = live.h;
    const { t } = h;
    await t.createUser(ADMIN, ADMIN_PASSWORD, "admin");
    const bob = await enroll(t, "bob@example.com");
    const admin = await browser.newContext();
    const page = await admin.newPage();
    const problems = watchProblems(page);
    await signInWithForm(page, live.origin, ADMIN, ADMIN_PASSWORD);
    await page.waitForURL(`${live.origin}/admin`);
    await page.goto(`${live.origin}/admin/users/${bob.user.id}`);
    await page.getByRole("link", { name: "Reset 2FA… bob@example.com" }).click();
    await page.waitForURL(/\/confirm\/reset-mfa/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Reset two-step verification of bob@example.com?");
    await page.getByRole("button", { name: "Turn off two-step verification" }).click();
    await page.waitForURL(/done=mfa-reset/);
    expect(await page.getByRole("status").textContent()).toContain("no longer has two-step verification");
    expect(await page.locator(".badges").textContent()).not.toContain("2FA on");
    expect(problems).toEqual([]);
    await admin.close();
    expect(await h.drain()).toBeGreaterThanOrEqual(1);
    expect(h.smtp.to("bob@example.com").map((m) => m.subject).join("\n")).toMatch(/two-step verification|2FA/i);

    const user = await browser.newContext();
    const bobPage = await user.newPage();
    const bobProblems = watchProblems(bobPage);
    await signInWithForm(bobPage, live.origin, bob.email, MFA_PASSWORD);
    // No code asked: straight to the account, where 2FA can be set up again.
    await bobPage.waitForURL(`${live.origin}/account`);
    await bobPage.getByRole("button", { name: "Set up two-step verification" }).click();
    const key = ((await bobPage.locator("#totp-secret").textContent()) ?? "").replace(/ /g, "");
    expect(key).not.toBe(bob.base32.replace(/=+$/, ""));
    await bobPage.getByLabel("The 6-digit code your app shows now").fill(hotp(base32Decode(key), totpStep(t.clock.now())));
    await bobPage.getByRole("button", { name: "Turn on" }).click();
    expect(await bobPage.getByRole("heading", { level: 1 }).textContent()).toBe("Two-step verification is on");
    expect(bobProblems).toEqual([]);
    await user.close();
  });

  it("disables a user only after a confirmation page, with a note kept in the event and shown on the user's page", async () => {
    const live = await startLive();
    h = live.h;
    const { t } = h;
    await t.createUser(ADMIN, ADMIN_PASSWORD, "admin");
    const carol = await t.createUser("carol@example.com", "carol has a passphrase");
    const admin = await browser.newContext({ javaScriptEnabled: false });
    const page = await admin.newPage();
    const problems = watchProblems(page);
    await signInWithForm(page, live.origin, ADMIN, ADMIN_PASSWORD);
    await page.waitForURL(`${live.origin}/admin`);
    await page.goto(`${live.origin}/admin/users`);
    const row = page.locator('tr[data-email="carol@example.com"]');
    // A link to a page, not a button that disables at once.
    await row.getByRole("link", { name: "Disable… carol@example.com" }).click();
    await page.waitForURL(/\/confirm\/disable/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Disable carol@example.com?");
    // Cancel changes nothing.
    await page.getByRole("link", { name: "Cancel" }).click();
    expect(await row.locator(".badge").textContent()).toBe("Active");
    await row.getByRole("link", { name: "Disable… carol@example.com" }).click();
    await page.getByLabel("Note (why; kept in the event log)").fill("Left the company, ticket 4711");
    await page.getByRole("button", { name: "Disable the account" }).click();
    await page.waitForURL(/done=disabled/);
    expect(await row.locator(".badge").textContent()).toBe("Disabled (by an admin)");
    await row.getByRole("link", { name: "carol@example.com", exact: true }).click();
    expect(await page.locator("#disable-note").textContent()).toContain("Left the company, ticket 4711");
    await screenshot(page, "admin-user-disabled");
    expect(problems).toEqual([]);
    await admin.close();
    const [event] = await listEvents(t.auth.database.db, { userId: carol.id, type: "account.disabled", order: "newest", limit: 1 });
    expect(event?.details).toMatchObject({ note: "Left the company, ticket 4711" });
  });
});
