/**
 * Every page in a real Chromium at a phone's width (390 px): no page scrolls sideways (wide
 * tables scroll in their own box), and no page has a console error, a failed request or an
 * answer of 400 or more. A full-page screenshot of each is saved to a temporary directory,
 * whose path the test prints.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/oidc/clients.ts";
import { HAS_CHROMIUM, launchBrowser, signInWithForm, SKIP_NOTE, startLiveApp, watchProblems, type LiveApp } from "./support.ts";

const PHONE = { width: 390, height: 844 };
const ADMIN = "root@example.com";
const ADMIN_PASSWORD = "admin-password-1";
const USER = "a.rather.long.address.for.a.narrow.screen@example.com";
const USER_PASSWORD = "a user with a long address";
const PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/**
 * The page's scroll width, and the first elements that stick out of the viewport (outside a
 * scroll box such as .table-wrap, where sticking out is the point). A string, because the
 * test's TypeScript has no DOM types; it runs in the page.
 */
const MEASURE = `(() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const element of document.querySelectorAll("body *")) {
    if (element.getBoundingClientRect().right > width + 1 && !element.closest(".table-wrap")) {
      culprits.push(element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") + "." + element.className);
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, culprits: culprits.slice(0, 5) };
})()`;

async function overflow(page: Page): Promise<{ scrollWidth: number; culprits: string[] }> {
  return page.evaluate(MEASURE) as Promise<{ scrollWidth: number; culprits: string[] }>;
}

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "every page at 390 px in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let live: LiveApp | undefined;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());
  afterEach(async () => live?.t.close());

  it("fits a phone's width, with no console error or failed request, on every page", async () => {
    live = await startLiveApp({ DEADBOLT_LOCKOUT_THRESHOLD: "3" });
    const { t, origin } = live;
    await t.createUser(ADMIN, ADMIN_PASSWORD, "admin");
    const user = await t.createUser(USER, USER_PASSWORD);
    await createClient(t.auth.database.db, {
      name: "Intranet wiki", redirectUris: ["https://wiki.example.com/oauth2/callback/with/a/long/path"], public: false,
    }, { now: t.clock.now(), randomBytes: t.auth.randomBytes });
    // A trusted device for the user's page, then events with long user agents and details.
    const signedIn = await fetch(`${origin}/api/auth/login`, {
      method: "POST", headers: { "content-type": "application/json", "user-agent": PHONE_UA },
      body: JSON.stringify({ email: USER, password: USER_PASSWORD }),
    });
    expect(signedIn.status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${origin}/api/auth/login`, {
        method: "POST", headers: { "content-type": "application/json", "user-agent": PHONE_UA },
        body: JSON.stringify({ email: USER, password: "wrong-password" }),
      });
      expect(response.status).toBe(401);
    }

    const shots = mkdtempSync(join(tmpdir(), "deadbolt-390-"));
    const context = await browser.newContext({ viewport: PHONE, userAgent: PHONE_UA });
    const page = await context.newPage();
    const problems = watchProblems(page, { failAt: 400 });
    const measured: Record<string, number> = {};
    const check = async (name: string, path: string | null) => {
      if (path !== null) await page.goto(`${origin}${path}`);
      const { scrollWidth, culprits } = await overflow(page);
      measured[name] = scrollWidth;
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      expect(culprits, `${name}: elements wider than the screen`).toEqual([]);
      expect(scrollWidth, `${name} is ${scrollWidth} px wide`).toBeLessThanOrEqual(PHONE.width);
    };

    await check("sign-in", "/login");
    await check("forgot", "/forgot");
    await signInWithForm(page, origin, ADMIN, ADMIN_PASSWORD);
    await page.waitForURL(`${origin}/admin`);
    await check("admin-overview", null);
    await check("users", "/admin/users");
    await check("user", `/admin/users/${user.id}`);
    expect(await page.locator("#devices li").count()).toBe(1);
    await check("confirm-disable", `/admin/users/${user.id}/confirm/disable`);
    await check("events", "/admin/events");
    await check("clients", "/admin/clients");
    await check("account", "/account");
    // The raw user agent opens in its row, and still fits.
    await page.goto(`${origin}/admin/events`);
    await page.locator("details.ua summary").first().click();
    await check("events-agent-open", null);
    console.log(`390 px screenshots in ${shots}: ${JSON.stringify(measured)}`);
    expect(problems).toEqual([]);
    await context.close();
  });
});
