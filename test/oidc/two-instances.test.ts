import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizationRequest, Browser, hiddenField, REDIRECT_URI, registerClient, relyingParty, signInApp, startOidcServer, userinfoStatus,
  type OidcServer,
} from "./support.ts";

const PASSWORD = "correct horse battery staple";

/** The same RP, but its token and userinfo calls go to another instance (as a load balancer might). */
function viaInstance(config: client.Configuration, other: string, registered: { clientId: string; clientSecret: string | null }) {
  const metadata = { ...config.serverMetadata() };
  for (const key of ["token_endpoint", "userinfo_endpoint", "revocation_endpoint", "introspection_endpoint"] as const) {
    const url = new URL(metadata[key] as string);
    metadata[key] = `${other}${url.pathname}`;
  }
  const moved = new client.Configuration(metadata, registered.clientId, undefined, client.ClientSecretBasic(registered.clientSecret as string));
  client.allowInsecureRequests(moved);
  return moved;
}

describe("two instances on one PostgreSQL share the provider's state", () => {
  let a: OidcServer;
  let b: OidcServer;
  beforeAll(async () => {
    a = await startOidcServer("postgres");
    // One issuer for both, as behind a load balancer; each listens on its own port.
    b = await startOidcServer("postgres", { database: a.database, env: { DEADBOLT_PUBLIC_URL: a.url } });
    await a.createUser("hana@example.com", PASSWORD);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it("the authorization starts at one, the sign-in form is posted to the other, and the code is redeemed at the other", async () => {
    const registered = await registerClient(a);
    const config = await relyingParty(a.url, registered);
    const request = await authorizationRequest(config);
    const browser = new Browser();
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    const interaction = hiddenField(await landed.response.text(), "interaction");
    const posted = await browser.follow(`${b.url}/login`, REDIRECT_URI, { form: { email: "hana@example.com", password: PASSWORD, interaction } });
    // B sends the browser back to the issuer's resume URL (on A); A issues the code.
    expect(posted.url.startsWith(REDIRECT_URI)).toBe(true);

    const atB = viaInstance(config, b.url, registered);
    const tokens = await client.authorizationCodeGrant(atB, new URL(posted.url), {
      pkceCodeVerifier: request.verifier, expectedState: request.state,
    });
    expect(tokens.claims()?.email).toBe("hana@example.com");
    // Keys are shared too: A's JWKS verifies what B signed (openid-client checked the ID token against A's).
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()?.sub as string);
    expect(info.email).toBe("hana@example.com");

    const refreshedAtA = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    // The rotated-out token is dead on both instances.
    await expect(client.refreshTokenGrant(atB, tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
    // The replay at B revoked the whole grant, A's rotated token with it.
    expect((await client.tokenIntrospection(atB, refreshedAtA.access_token)).active).toBe(false);
  });

  it("revocation and RP-initiated logout at one instance hold at the other", async () => {
    const registered = await registerClient(a);
    const config = await relyingParty(a.url, registered);
    const atB = viaInstance(config, b.url, registered);
    const browser = new Browser();
    const held = await signInApp(a, config, "hana@example.com", PASSWORD, browser);
    await client.tokenRevocation(atB, held.refresh_token as string);
    await expect(client.refreshTokenGrant(config, held.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
    expect((await client.tokenIntrospection(config, held.refresh_token as string)).active).toBe(false);

    // The logout page from A, its confirmation posted to B.
    const fresh = await signInApp(a, config, "hana@example.com", PASSWORD, browser);
    const logout = client.buildEndSessionUrl(config, { id_token_hint: fresh.id_token as string, post_logout_redirect_uri: "http://127.0.0.1:9/" });
    const page = await (await browser.request(logout.toString())).text();
    const action = new URL(/<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page)?.[1] as string);
    const confirmed = await browser.request(`${b.url}${action.pathname}`, { form: { xsrf: hiddenField(page, "xsrf"), logout: "yes" } });
    expect(confirmed.headers.get("location")).toBe("http://127.0.0.1:9/");
    expect(await userinfoStatus(config, fresh.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(atB, fresh.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
    expect((await browser.request(`${a.url}/api/auth/me`)).status).toBe(401);
    const signInAgain = await browser.follow((await authorizationRequest(config)).url.toString(), REDIRECT_URI);
    expect(signInAgain.url).toContain("/login?interaction=");
  });

  it("a code redeemed at one instance cannot be replayed at the other", async () => {
    const registered = await registerClient(a);
    const config = await relyingParty(a.url, registered);
    const request = await authorizationRequest(config);
    const browser = new Browser();
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    const interaction = hiddenField(await landed.response.text(), "interaction");
    const posted = await browser.follow(`${a.url}/login`, REDIRECT_URI, { form: { email: "hana@example.com", password: PASSWORD, interaction } });
    const checks = { pkceCodeVerifier: request.verifier, expectedState: request.state };
    await client.authorizationCodeGrant(config, new URL(posted.url), checks);
    await expect(client.authorizationCodeGrant(viaInstance(config, b.url, registered), new URL(posted.url), checks))
      .rejects.toMatchObject({ error: "invalid_grant" });
  });
});
