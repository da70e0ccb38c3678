/**
 * The whole OpenID Connect flow in a real Chromium: the example app (examples/oidc-express)
 * sends the browser to deadbolt's /login, the user signs in, the app shows the e-mail from the
 * ID token; then RP-initiated logout brings the browser back signed out.
 */
import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRelyingParty } from "../../examples/oidc-express/app.ts";
import { freePort, registerClient, startOidcServer, type OidcServer } from "../oidc/support.ts";
import { HAS_CHROMIUM, launchBrowser, screenshot, SKIP_NOTE, watchProblems } from "./support.ts";

const EMAIL = "june@example.com";
const PASSWORD = "june plants tall sunflowers";

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "signing in to an app through deadbolt, in Chromium" : SKIP_NOTE, () => {
  let browser: Browser;
  let server: OidcServer;
  let rp: Server;
  let rpUrl: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startOidcServer("sqlite", { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    await server.createUser(EMAIL, PASSWORD);
    rpUrl = `http://127.0.0.1:${await freePort()}`;
    const registered = await registerClient(server, { redirectUris: [`${rpUrl}/callback`] });
    const app = createRelyingParty({
      issuer: server.url, baseUrl: rpUrl, clientId: registered.clientId, clientSecret: registered.clientSecret as string,
    });
    rp = await new Promise<Server>((resolve) => {
      const listening = app.listen(Number(new URL(rpUrl).port), "127.0.0.1", () => resolve(listening));
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => rp?.close(resolve));
    await server?.close();
  });

  it("signs in on deadbolt's page (a typo first), the app shows the e-mail, and logout comes back signed out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);

    await page.goto(rpUrl);
    await page.getByRole("link", { name: "Sign in with deadbolt" }).click();
    await page.waitForURL(new RegExp(`^${server.url}/login\\?interaction=`));
    expect(await page.getByText("to continue to Mail portal").count()).toBe(1);

    // A wrong password stays on deadbolt's sign-in with the generic failure, still for the app.
    await page.getByLabel("E-mail").fill(EMAIL);
    await page.getByLabel("Password").fill("not-my-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector(".notice.error");
    expect(new URL(page.url()).origin).toBe(server.url);
    expect(await page.getByRole("alert").textContent()).toContain("Incorrect e-mail or password");
    expect(await page.getByText("to continue to Mail portal").count()).toBe(1);
    await screenshot(page, "oidc-sign-in-failed");

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${rpUrl}/`);
    expect(await page.locator("#signed-in").textContent()).toContain(EMAIL);
    await screenshot(page, "oidc-app-signed-in");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(new RegExp(`^${server.url}/oidc/session/end`));
    await page.getByRole("button", { name: "Yes, sign me out" }).click();
    await page.waitForURL(`${rpUrl}/`);
    expect(await page.locator("#signed-out").count()).toBe(1);

    // Signed out at deadbolt too: the next sign-in asks for the password again.
    await page.getByRole("link", { name: "Sign in with deadbolt" }).click();
    await page.waitForURL(new RegExp(`^${server.url}/login\\?interaction=`));
    expect(problems).toEqual([]);
    await context.close();
  });
});
