/**
 * In a real Chromium against a listening app: an admin signs in at /login, finds a user
 * locked by failed logins, presses Unlock, sees the badge go, and that user then signs in.
 */
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, launchBrowser, screenshot, signInWithForm, SKIP_NOTE, startLiveApp, watchProblems, type LiveApp } from "./support.ts";

const ADMIN = "root@example.com";
const ADMIN_PASSWORD = "admin-password-1";
const VICTIM = "victim@example.com";
const VICTIM_PASSWORD = "a victim of brute force";
const HOUR = 3_600_000;

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "admin console in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let live: LiveApp | undefined;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());
  afterEach(async () => live?.t.close());

  it("unlocks a user locked by failed logins, who then signs in", async () => {
    live = await startLiveApp({ DEADBOLT_LOCKOUT_THRESHOLD: "3" });
    const { t, origin } = live;
    await t.createUser(ADMIN, ADMIN_PASSWORD, "admin");
    await t.createUser(VICTIM, VICTIM_PASSWORD);
    await t.createUser("bystander@example.com", "a bystander walks past");
    const failLogin = async (email: string) => {
      const response = await fetch(`${origin}/api/auth/login`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: "wrong-password" }),
      });
      expect(response.status).toBe(401);
    };
    // Some history for the charts: guesses at an unknown address 6 and 3 hours ago.
    t.clock.advance(-6 * HOUR);
    for (let i = 0; i < 4; i++) await failLogin("ghost@example.com");
    t.clock.advance(3 * HOUR);
    for (let i = 0; i < 2; i++) await failLogin("ghost@example.com");
    t.clock.advance(3 * HOUR);
    for (let i = 0; i < 3; i++) await failLogin(VICTIM);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await signInWithForm(page, origin, ADMIN, ADMIN_PASSWORD);
    await page.waitForURL(`${origin}/admin`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Console");
    expect(await page.locator("#count-locked + .stat").textContent()).toBe("1");
    expect(await page.locator("svg[role=img]").count()).toBe(2);
    expect(await page.locator("#top-targeted").textContent()).toContain(VICTIM);
    expect(await page.locator("#failures-chart-desc").textContent()).toMatch(/^9 failed logins from /);
    await screenshot(page, "admin-dashboard");

    // The 7-day window, chosen with the GET form.
    await page.getByLabel("Time window").selectOption("7d");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(`${origin}/admin?window=7d`);
    expect(await page.getByLabel("Time window").inputValue()).toBe("7d");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
    await page.waitForURL(`${origin}/admin/users`);
    const row = page.locator(`tr[data-email="${VICTIM}"]`);
    expect(await row.locator(".badge").textContent()).toBe("Locked for new devices until 2026-11-22 12:15:00 UTC (password)");
    await screenshot(page, "admin-users");

    await row.getByRole("button", { name: `Unlock ${VICTIM}` }).click();
    await page.waitForURL(/\/admin\/users\?done=unlocked/);
    expect(await page.getByRole("status").textContent()).toContain(`${VICTIM} was unlocked`);
    expect(await row.locator(".badge").textContent()).toBe("Active");
    expect(await row.getByRole("button", { name: `Unlock ${VICTIM}` }).count()).toBe(0);
    // Disable is a link to a confirmation page, not a button beside Unlock.
    expect(await row.getByRole("link", { name: `Disable… ${VICTIM}` }).count()).toBe(1);

    // The user's page shows the unlock at the top of its timeline, naming the admin.
    await row.getByRole("link", { name: VICTIM, exact: true }).click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/);
    const newest = page.locator("#timeline tbody tr").first();
    expect(await newest.textContent()).toContain(`account unlocked by admin ${ADMIN}`);
    await screenshot(page, "admin-user");
    expect(problems).toEqual([]);
    await context.close();

    const userContext = await browser.newContext();
    const userPage = await userContext.newPage();
    await signInWithForm(userPage, origin, VICTIM, VICTIM_PASSWORD);
    await userPage.waitForURL(`${origin}/account`);
    expect(await userPage.getByRole("main").textContent()).toContain(VICTIM);
    await userContext.close();
  });
});
