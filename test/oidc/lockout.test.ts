import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LOGIN_FAILURE_MESSAGE } from "../../src/config.ts";
import { findUserByEmail } from "../../src/store/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { postLogin } from "../support/app.ts";
import {
  authorizationRequest, Browser, hiddenField, REDIRECT_URI, registerClient, relyingParty, signInApp, startOidcServer,
  type OidcServer,
} from "./support.ts";

const PASSWORD = "correct horse battery staple";
const THRESHOLD = 3;

function escaped(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/'/g, "&#39;").replace(/"/g, "&quot;");
}

describe.each(DIALECTS)("lockout holds on the OpenID Connect sign-in (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD) } });
  });
  afterAll(async () => server.close());

  /** Starts an app's sign-in and returns the /login page's interaction id. */
  async function openSignIn(browser: Browser, config: Awaited<ReturnType<typeof relyingParty>>) {
    const request = await authorizationRequest(config);
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    expect(landed.url).toContain("/login?interaction=");
    return hiddenField(await landed.response.text(), "interaction");
  }

  async function post(browser: Browser, interaction: string, email: string, password: string) {
    return browser.follow(`${server.url}/login`, REDIRECT_URI, { form: { email, password, interaction } });
  }

  it("wrong passwords count against the same counter and lock; then even the right one gets no code, only the generic failure", async () => {
    await server.createUser("eve@example.com", PASSWORD);
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const interaction = await openSignIn(browser, config);

    // One failure through the API, the rest through the app's sign-in: one counter.
    expect((await postLogin(server.app, "eve@example.com", "wrong-1")).statusCode).toBe(401);
    const pages: string[] = [];
    for (let i = 1; i < THRESHOLD; i++) {
      const answer = await post(browser, interaction, "eve@example.com", `wrong-${i + 1}`);
      expect(answer.response.status).toBe(401);
      expect(answer.url).toBe(`${server.url}/login`);
      pages.push(await answer.response.text());
    }
    const row = await findUserByEmail(server.auth.database.db, "eve@example.com");
    expect(row?.locked_until).not.toBeNull();

    const locked = await post(browser, interaction, "eve@example.com", PASSWORD);
    expect(locked.response.status).toBe(401);
    expect(locked.response.headers.get("location")).toBeNull();
    const html = await locked.response.text();
    expect(html).toContain(escaped(DEFAULT_LOGIN_FAILURE_MESSAGE));
    // Still the app's sign-in: the same interaction rides along for the next try.
    expect(hiddenField(html, "interaction")).toBe(interaction);
    // The locked answer reads exactly like a wrong password's (and an unknown user's).
    const unknown = await post(browser, interaction, "nobody@example.com", PASSWORD);
    const strip = (page: string) => page.replace(/value="[^"]*@example.com"/, "");
    expect(strip(html)).toBe(strip(pages[0] as string));
    expect(strip(await unknown.response.text())).toBe(strip(html));

    const events = await server.auth.database.db.selectFrom("events").select(["type", "details"])
      .where("email", "=", "eve@example.com").orderBy("id").execute();
    expect(events.map((event) => event.type)).toContain("account.locked");
    expect(events.filter((event) => event.type === "login.succeeded")).toEqual([]);
  });

  it("a session that signed in before the lock gets no code while the account is locked", async () => {
    await server.createUser("frank@example.com", PASSWORD);
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    await signInApp(server, config, "frank@example.com", PASSWORD, browser);

    // Single sign-on: the same browser gets a code without the form while the account is fine.
    const again = await authorizationRequest(config);
    expect((await browser.follow(again.url.toString(), REDIRECT_URI)).url.startsWith(REDIRECT_URI)).toBe(true);

    for (let i = 0; i < THRESHOLD; i++) await postLogin(server.app, "frank@example.com", `wrong-${i}`);
    const afterLock = await authorizationRequest(config);
    const landed = await browser.follow(afterLock.url.toString(), REDIRECT_URI);
    expect(landed.url).toContain("/login?interaction=");
    expect(landed.response.status).toBe(200);
  });
});

describe("per-client throttling holds on the OpenID Connect sign-in", () => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer("sqlite", { env: { DEADBOLT_THROTTLE_PER_MINUTE: "3" } });
    await server.createUser("olga@example.com", PASSWORD);
  });
  afterAll(async () => server.close());

  it("after the address's failures per minute, the app's sign-in answers 429 without checking the password, and no code", async () => {
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const request = await authorizationRequest(config);
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    const interaction = hiddenField(await landed.response.text(), "interaction");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await browser.follow(`${server.url}/login`, REDIRECT_URI, { form: { email: "olga@example.com", password: `wrong-${i}`, interaction } });
      statuses.push(answer.response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const right = await browser.follow(`${server.url}/login`, REDIRECT_URI, { form: { email: "olga@example.com", password: PASSWORD, interaction } });
    expect(right.response.status).toBe(429);
    expect(right.url.startsWith(REDIRECT_URI)).toBe(false);
    const row = await findUserByEmail(server.auth.database.db, "olga@example.com");
    expect(row?.password_failures).toBe(3);
  });
});
