import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS } from "../support/databases.ts";
import {
  authorizationRequest, Browser, hiddenField, REDIRECT_URI, registerClient, relyingParty, signInApp, signInThroughBrowser, startOidcServer,
  userinfoStatus, type OidcServer,
} from "./support.ts";

const PASSWORD = "correct horse battery staple";

describe.each(DIALECTS)("OpenID Connect code flow (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect);
    await server.createUser("ada@example.com", PASSWORD);
  });
  afterAll(async () => server.close());

  it("serves discovery at the issuer root with the issuer = DEADBOLT_PUBLIC_URL", async () => {
    const response = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const metadata = await response.json() as Record<string, unknown>;
    expect(metadata.issuer).toBe(server.url);
    expect(metadata.authorization_endpoint).toBe(`${server.url}/oidc/auth`);
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(["openid", "email"]));
    expect(metadata.revocation_endpoint).toBeTypeOf("string");
    expect(metadata.introspection_endpoint).toBeTypeOf("string");
    expect(metadata.end_session_endpoint).toBeTypeOf("string");
    // Only what a client registered here can use (its secret is stored hashed: no client_secret_jwt).
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(["client_secret_basic", "client_secret_post", "none"]);
    const jwks = await (await fetch(metadata.jwks_uri as string)).json() as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.map((key) => key.alg).sort()).toEqual(["ES256", "RS256"]);
    // Public halves only.
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
  });

  it("sends the sign-in to deadbolt's /login: oidc-provider's development interactions are off", async () => {
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const answer = await browser.request((await authorizationRequest(config)).url.toString());
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get("location") as string, server.url);
    expect(location.pathname).toBe("/login");
    const uid = location.searchParams.get("interaction") as string;
    for (const path of [`/oidc/interaction/${uid}`, `/oidc/interaction/${uid}/login`, `/interaction/${uid}`]) {
      const dev = await browser.request(`${server.url}${path}`);
      expect(dev.status, path).toBe(404);
    }
  });

  it("names its endpoints after the issuer whatever Host or X-Forwarded-* a request carries", async () => {
    for (const url of ["/.well-known/openid-configuration", "/oidc/.well-known/openid-configuration"]) {
      const response = await server.app.inject({
        method: "GET", url, headers: { host: "attacker.example", "x-forwarded-host": "attacker.example", "x-forwarded-proto": "https" },
      });
      expect(response.statusCode).toBe(200);
      const metadata = response.json() as Record<string, string>;
      expect(metadata.issuer).toBe(server.url);
      expect(metadata.token_endpoint).toBe(`${server.url}/oidc/token`);
      expect(metadata.jwks_uri).toBe(`${server.url}/oidc/jwks`);
    }
  });

  it("signs in through /login, then token, userinfo, refresh (rotated), introspection, revocation", async () => {
    const registered = await registerClient(server);
    const config = await relyingParty(server.url, registered);
    const request = await authorizationRequest(config);
    const browser = new Browser();
    const { callback } = await signInThroughBrowser(browser, request.url, "ada@example.com", PASSWORD);
    expect(callback).not.toBeNull();

    const tokens = await client.authorizationCodeGrant(config, new URL(callback as string), {
      pkceCodeVerifier: request.verifier, expectedState: request.state,
    });
    const claims = tokens.claims();
    const user = await server.auth.database.db.selectFrom("users").select("id").where("email", "=", "ada@example.com").executeTakeFirstOrThrow();
    expect(claims?.sub).toBe(user.id);
    expect(claims?.email).toBe("ada@example.com");
    expect(claims?.email_verified).toBe(true);

    const info = await client.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: "ada@example.com", email_verified: true });

    expect(tokens.refresh_token).toBeTypeOf("string");
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.refresh_token).toBeTypeOf("string");
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
    await client.tokenRevocation(config, refreshed.refresh_token as string);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });

    // The sign-in was recorded with the app's name.
    const event = await server.auth.database.db.selectFrom("events").select("details")
      .where("type", "=", "login.succeeded").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(JSON.parse(event.details)).toMatchObject({ client: registered.clientId, clientName: "Mail portal" });
  });

  it("RP-initiated logout: asks, then ends the provider session, the app's grant and deadbolt's own session", async () => {
    const registered = await registerClient(server);
    const config = await relyingParty(server.url, registered);
    const browser = new Browser();
    const tokens = await signInApp(server, config, "ada@example.com", PASSWORD, browser);
    expect(browser.cookies.has("deadbolt_session")).toBe(true);
    const me = () => browser.request(`${server.url}/api/auth/me`).then((response) => response.status);
    expect(await me()).toBe(200);

    const back = "http://127.0.0.1:9/";
    const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: back, state: "bye" });
    const asked = await browser.request(logout.toString());
    expect(asked.status).toBe(200);
    const page = await asked.text();
    expect(page).toContain("Do you want to sign out of deadbolt?");
    // Nothing ends on the GET alone (a link cannot sign anyone out).
    expect(await me()).toBe(200);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(200);

    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page)?.[1] as string;
    const confirmed = await browser.request(action, { form: { xsrf: hiddenField(page, "xsrf"), logout: "yes" } });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("location")).toBe(`${back}?state=bye`);

    expect(await me()).toBe(401);
    expect(browser.cookies.has("deadbolt_session")).toBe(false);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
    // The next authorization asks for the password again.
    const again = await browser.follow((await authorizationRequest(config)).url.toString(), REDIRECT_URI);
    expect(again.url).toContain("/login?interaction=");
  });

  it("a post-logout redirect URI that is not registered is refused on deadbolt's page", async () => {
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const tokens = await signInApp(server, config, "ada@example.com", PASSWORD, browser);
    const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: "https://evil.example/" });
    const refused = await browser.request(logout.toString());
    expect(refused.status).toBe(400);
    expect(refused.headers.get("location")).toBeNull();
    expect(await refused.text()).toContain("post_logout_redirect_uri not registered");
  });

  it("signing out of deadbolt (/logout) ends the apps' single sign-on in that browser and the grants made in it", async () => {
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const tokens = await signInApp(server, config, "ada@example.com", PASSWORD, browser);
    const sso = await browser.follow((await authorizationRequest(config)).url.toString(), REDIRECT_URI);
    expect(sso.url.startsWith(REDIRECT_URI)).toBe(true);

    const out = await browser.request(`${server.url}/logout`, { form: {} });
    expect(out.status).toBe(303);
    const again = await browser.follow((await authorizationRequest(config)).url.toString(), REDIRECT_URI);
    expect(again.url).toContain("/login?interaction=");
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("clients are first-party: prompt=consent and offline_access still get a code without a consent page", async () => {
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    await signInApp(server, config, "ada@example.com", PASSWORD, browser);
    const request = await authorizationRequest(config, { prompt: "consent", scope: "openid email offline_access" });
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    expect(landed.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await client.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: request.verifier, expectedState: request.state });
    expect(tokens.scope?.split(" ").sort()).toEqual(["email", "offline_access", "openid"]);
    expect(tokens.claims()?.email).toBe("ada@example.com");
  });
});
