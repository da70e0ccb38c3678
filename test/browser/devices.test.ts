/**
 * Trusted devices in a real Chromium (SPEC "Trusted devices" 1, web pages): signing in sets the
 * `deadbolt_device` cookie HttpOnly (page scripts cannot read it), SameSite=Lax, for 400 days,
 * and Secure when PUBLIC_URL is https; /account lists the user's devices in words, marks this
 * one, and its Forget buttons forget them.
 */
import type { Browser, BrowserContext, Response } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listDevices } from "../../src/auth/index.ts";
import { HAS_CHROMIUM, launchBrowser, screenshot, signInWithForm, SKIP_NOTE, startLiveApp, watchProblems, type LiveApp } from "./support.ts";

const EMAIL = "dora@example.com";
const PASSWORD = "dora keeps her browsers close";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const DAY_S = 24 * 60 * 60;

/** The Set-Cookie line for deadbolt_device among the answers the browser received. */
function deviceSetCookie(responses: readonly Response[]): Promise<string | undefined> {
  return Promise.all(responses.map((r) => r.headersArray())).then((all) => all.flat()
    .filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value).find((v) => v.startsWith("deadbolt_device=")));
}

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "trusted devices in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let live: LiveApp | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    await live?.t.close();
    live = undefined;
  });

  it("sets deadbolt_device HttpOnly, SameSite=Lax, for 400 days; not Secure on http, and page scripts cannot read it", async () => {
    live = await startLiveApp();
    const { t, origin } = live;
    await t.createUser(EMAIL, PASSWORD);
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems = watchProblems(page);

    await signInWithForm(page, origin, EMAIL, PASSWORD);
    await page.waitForURL(`${origin}/account`);
    const cookie = (await context.cookies()).find((c) => c.name === "deadbolt_device");
    expect(cookie).toBeDefined();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false, path: "/" });
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const lifetimeDays = (cookie!.expires - Date.now() / 1000) / DAY_S;
    expect(lifetimeDays).toBeGreaterThan(399);
    expect(lifetimeDays).toBeLessThanOrEqual(400);
    // HttpOnly, as the page itself sees it.
    // (A string: the test's TypeScript has no DOM types; it runs in the page.)
    expect(await page.evaluate("document.cookie")).not.toContain("deadbolt_device");
    expect(problems).toEqual([]);
  });

  it("with an https PUBLIC_URL the cookie the browser receives is Secure", async () => {
    live = await startLiveApp({ DEADBOLT_PUBLIC_URL: "https://deadbolt.example" });
    const { t, origin } = live;
    await t.createUser(EMAIL, PASSWORD);
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const responses: Response[] = [];
    page.on("response", (response) => responses.push(response));

    await signInWithForm(page, origin, EMAIL, PASSWORD);
    // Served over plain http here, so the browser may refuse to keep a Secure cookie: the header is what counts.
    await page.waitForLoadState("load");
    const line = await deviceSetCookie(responses);
    expect(line).toBeDefined();
    const attributes = line!.split(";").slice(1).map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(["httponly", "secure", "samesite=lax", "path=/", `max-age=${400 * DAY_S}`]));
  });

  it("/account lists the devices in words, marks this one, and Forget removes them", async () => {
    live = await startLiveApp();
    const { t, origin } = live;
    const user = await t.createUser(EMAIL, PASSWORD);
    // Two browsers of the same user: Chromium as it is, and one that says it is Firefox on Windows.
    const chromium = await browser.newContext();
    const firefox = await browser.newContext({ userAgent: FIREFOX });
    contexts.push(chromium, firefox);
    const other = await firefox.newPage();
    await signInWithForm(other, origin, EMAIL, PASSWORD);
    await other.waitForURL(`${origin}/account`);
    t.clock.advance(60_000);
    const page = await chromium.newPage();
    const problems = watchProblems(page);
    await signInWithForm(page, origin, EMAIL, PASSWORD);
    await page.waitForURL(`${origin}/account`);

    const devices = page.locator("li.device");
    expect(await devices.count()).toBe(2);
    // Most recently used first: this one, with Chromium's own user agent in words.
    const mine = devices.nth(0);
    const mineText = (await mine.textContent()) ?? "";
    expect(mineText).toMatch(/Chrom\w*( Headless)? \d+ on Linux/);
    expect(mineText).toContain("this device");
    expect(mineText).not.toContain("Mozilla/5.0");
    expect(mineText).toMatch(/Last used .+ from 127\.0\.0\.1/);
    expect(await mine.locator("time").first().getAttribute("datetime")).toMatch(/^2026-11-22T12:01:00(\.000)?Z$/);
    const theirs = devices.nth(1);
    expect(await theirs.locator("strong").textContent()).toBe("Firefox 133 on Windows 10");
    expect(await theirs.textContent()).not.toContain("this device");
    await screenshot(page, "account-devices");

    await page.getByRole("button", { name: "Forget Firefox 133 on Windows 10" }).click();
    await page.waitForURL(`${origin}/account/devices/forget`);
    expect(await page.getByRole("status").textContent()).toContain("The device was forgotten");
    expect(await devices.count()).toBe(1);
    expect(await devices.nth(0).textContent()).toContain("this device");
    expect((await listDevices(t.auth, user.id, null)).length).toBe(1);

    // Forgetting this browser itself: the list is empty, and the server no longer trusts it.
    await page.getByRole("button", { name: /\(this device\)$/ }).click();
    await page.waitForURL(`${origin}/account/devices/forget`);
    expect(await devices.count()).toBe(0);
    expect(await page.locator("#devices-heading + p").textContent()).toContain("No trusted devices");
    expect(await listDevices(t.auth, user.id, null)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
