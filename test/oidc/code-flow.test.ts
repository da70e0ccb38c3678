import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS } from "../support/databases.ts";
import {
  authorizationRequest, Browser, registerClient, relyingParty, signInThroughBrowser, startOidcServer, type OidcServer,
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
    const jwks = await (await fetch(metadata.jwks_uri as string)).json() as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.map((key) => key.alg).sort()).toEqual(["ES256", "RS256"]);
    // Public halves only.
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
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
});
