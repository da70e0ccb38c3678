/**
 * /docs in a real Chromium: Swagger UI runs under the CSP (no console error, no failed
 * request), shows deadbolt's name instead of Swagger's logo, real-looking examples and a
 * sentence for every response; and the console links to it.
 */
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, launchBrowser, screenshot, signInWithForm, SKIP_NOTE, startLiveApp, watchProblems, type LiveApp } from "./support.ts";

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "/docs in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let live: LiveApp | undefined;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());
  afterEach(async () => live?.t.close());

  it("runs Swagger UI without a CSP error, with the app's name, examples and described responses", async () => {
    live = await startLiveApp({ DEADBOLT_APP_NAME: "Acme Sign-in" });
    const { t, origin } = live;
    await t.createUser("root@example.com", "admin-password-1", "admin");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page, { failAt: 400 });

    await signInWithForm(page, origin, "root@example.com", "admin-password-1");
    await page.waitForURL(`${origin}/admin`);
    await page.getByRole("link", { name: "API documentation" }).click();
    await page.waitForURL((url) => url.pathname.startsWith("/docs"));
    await page.locator(".opblock").first().waitFor();
    expect(await page.title()).toBe("Acme Sign-in API");
    const logo = page.locator(".topbar-wrapper img");
    expect(await logo.getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(((await logo.getAttribute("src")) ?? "").split(",")[1] ?? "", "base64").toString()).toContain("Acme Sign-in");

    const login = page.locator("#operations-auth-post_api_auth_login");
    await login.locator(".opblock-summary").click();
    await login.locator(".responses-table").first().waitFor();
    const text = (await login.textContent()) ?? "";
    expect(text).toContain("alice@example.com");
    expect(text).not.toContain("Default Response");
    expect(text).toContain("Not signed in");
    await screenshot(page, "docs-login");
    expect(problems).toEqual([]);
    await context.close();

    // The document itself: no "Default Response" anywhere, and every e-mail has an example.
    const spec = JSON.stringify((await t.app.inject({ method: "GET", url: "/openapi.json" })).json());
    expect(spec).not.toContain("Default Response");
    expect(spec).not.toContain("user@example.com\",\"format");
    expect(spec).toContain("\"example\":\"alice@example.com\"");
  });
});
