import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByEmail } from "../../src/store/index.ts";
import { codeAt, enroll, PASSWORD, wrongCode } from "../mfa/helpers.ts";
import { DIALECTS } from "../support/databases.ts";
import { authorizationRequest, Browser, hiddenField, REDIRECT_URI, registerClient, relyingParty, startOidcServer, type OidcServer } from "./support.ts";

const MFA_THRESHOLD = 3;

describe.each(DIALECTS)("the second factor on the OpenID Connect sign-in (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect, { env: { DEADBOLT_MFA_THRESHOLD: String(MFA_THRESHOLD) } });
  });
  afterAll(async () => server.close());

  /** Password step for an app: ends on /login/mfa with the interaction riding along. */
  async function toSecondFactor(browser: Browser, config: client.Configuration, email: string) {
    const request = await authorizationRequest(config);
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    const interaction = hiddenField(await landed.response.text(), "interaction");
    const mfa = await browser.follow(`${server.url}/login`, REDIRECT_URI, { form: { email, password: PASSWORD, interaction } });
    expect(mfa.url).toBe(`${server.url}/login/mfa?interaction=${interaction}`);
    expect(hiddenField(await mfa.response.text(), "interaction")).toBe(interaction);
    return { request, interaction };
  }

  it("a code is asked after the password; a wrong one stays on the page, the right one gets the app its code", async () => {
    const enrolled = await enroll(server, "kim@example.com");
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const { request, interaction } = await toSecondFactor(browser, config, enrolled.email);

    const wrong = await browser.follow(`${server.url}/login/mfa`, REDIRECT_URI, { form: { code: wrongCode(server, enrolled.secret), interaction } });
    expect(wrong.response.status).toBe(401);
    expect(hiddenField(await wrong.response.text(), "interaction")).toBe(interaction);

    const right = await browser.follow(`${server.url}/login/mfa`, REDIRECT_URI, { form: { code: codeAt(server, enrolled.secret), interaction } });
    expect(right.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await client.authorizationCodeGrant(config, new URL(right.url), { pkceCodeVerifier: request.verifier, expectedState: request.state });
    expect(tokens.claims()?.email).toBe("kim@example.com");
    const event = await server.auth.database.db.selectFrom("events").select("details")
      .where("type", "=", "login.succeeded").where("user_id", "=", enrolled.user.id).orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(JSON.parse(event.details)).toMatchObject({ via: "mfa", clientName: "Mail portal" });
  });

  it("wrong codes lock the second factor: the right code then gets no code for the app", async () => {
    const enrolled = await enroll(server, "lee@example.com");
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const { interaction } = await toSecondFactor(browser, config, enrolled.email);
    for (let i = 0; i < MFA_THRESHOLD; i++) {
      const answer = await browser.follow(`${server.url}/login/mfa`, REDIRECT_URI, { form: { code: wrongCode(server, enrolled.secret), interaction } });
      expect(answer.url.startsWith(REDIRECT_URI)).toBe(false);
    }
    expect((await findUserByEmail(server.auth.database.db, enrolled.email))?.lock_reason).toBe("mfa");
    const late = await browser.follow(`${server.url}/login/mfa`, REDIRECT_URI, { form: { code: codeAt(server, enrolled.secret), interaction } });
    expect(late.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(late.response.status).toBe(401);
  });

  it("when the second-factor cookie is gone, the browser goes back to the password step still for the app", async () => {
    const enrolled = await enroll(server, "max@example.com");
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const { request, interaction } = await toSecondFactor(browser, config, enrolled.email);
    browser.cookies.delete("deadbolt_mfa");
    for (const answer of [
      await browser.request(`${server.url}/login/mfa?interaction=${interaction}`),
      await browser.request(`${server.url}/login/mfa`, { form: { code: codeAt(server, enrolled.secret), interaction } }),
    ]) {
      expect(answer.status).toBe(303);
      expect(answer.headers.get("location")).toBe(`/login?interaction=${interaction}`);
    }
    // And from there the sign-in for the app goes on.
    const again = await browser.follow(`${server.url}/login`, REDIRECT_URI, { form: { email: enrolled.email, password: PASSWORD, interaction } });
    expect(again.url).toBe(`${server.url}/login/mfa?interaction=${interaction}`);
    server.clock.advance(30_000);
    const right = await browser.follow(`${server.url}/login/mfa`, REDIRECT_URI, { form: { code: codeAt(server, enrolled.secret), interaction } });
    expect(right.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await client.authorizationCodeGrant(config, new URL(right.url), { pkceCodeVerifier: request.verifier, expectedState: request.state });
    expect(tokens.claims()?.email).toBe("max@example.com");
  });
});
