import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS } from "../support/databases.ts";
import { postLogin } from "../support/app.ts";
import {
  authorizationRequest, Browser, CLIENT_FIELDS, REDIRECT_URI, registerClient, relyingParty, signInThroughBrowser, startOidcServer,
  userinfoStatus, type OidcServer,
} from "./support.ts";

const PASSWORD = "correct horse battery staple";

describe.each(DIALECTS)("bad OpenID Connect input gets the standard OAuth errors, never a 5xx (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect);
    await server.createUser("gus@example.com", PASSWORD);
    await server.createUser("root@example.com", "admin-password-1", "admin");
  });
  afterAll(async () => server.close());

  function authorize(params: Record<string, string>) {
    return fetch(`${server.url}/oidc/auth?${new URLSearchParams(params)}`, { redirect: "manual" });
  }

  it("an unknown client is refused on deadbolt's page (nowhere safe to redirect to)", async () => {
    const response = await authorize({ client_id: "nope", redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid" });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    expect(await response.text()).toContain("invalid_client");
  });

  it("a redirect URI that does not match exactly is refused without redirecting", async () => {
    const { clientId } = await registerClient(server);
    for (const redirect of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, "http://127.0.0.1:9/callbackx", "https://evil.example/callback"]) {
      const response = await authorize({ client_id: clientId, redirect_uri: redirect, response_type: "code", scope: "openid" });
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toContain("invalid_redirect_uri");
    }
  });

  it("a public client without PKCE gets invalid_request at its redirect URI", async () => {
    const { clientId } = await registerClient(server, { public: true });
    const response = await authorize({ client_id: clientId, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", state: "s1" });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("error_description")).toMatch(/PKCE/);
    // "plain" is not accepted either: S256 only.
    const plain = await authorize({
      client_id: clientId, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid",
      code_challenge: "a".repeat(43), code_challenge_method: "plain",
    });
    expect(new URL(plain.headers.get("location") as string).searchParams.get("error")).toBe("invalid_request");
  });

  it("a public client with PKCE signs in and needs no secret", async () => {
    const registered = await registerClient(server, { public: true });
    const config = await relyingParty(server.url, registered);
    const request = await authorizationRequest(config);
    const { callback } = await signInThroughBrowser(new Browser(), request.url, "gus@example.com", PASSWORD);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback as string), {
      pkceCodeVerifier: request.verifier, expectedState: request.state,
    });
    expect(tokens.claims()?.email).toBe("gus@example.com");
  });

  it("a replayed code is invalid_grant, and the replay revokes what the first use got", async () => {
    const config = await relyingParty(server.url, await registerClient(server));
    const request = await authorizationRequest(config);
    const { callback } = await signInThroughBrowser(new Browser(), request.url, "gus@example.com", PASSWORD);
    const checks = { pkceCodeVerifier: request.verifier, expectedState: request.state };
    const tokens = await client.authorizationCodeGrant(config, new URL(callback as string), checks);
    await expect(client.authorizationCodeGrant(config, new URL(callback as string), checks)).rejects.toMatchObject({ error: "invalid_grant" });
    expect(await userinfoStatus(config, tokens.access_token)).toBe(401);
  });

  it("a wrong PKCE verifier or client secret is refused", async () => {
    const registered = await registerClient(server);
    const config = await relyingParty(server.url, registered);
    const request = await authorizationRequest(config);
    const { callback } = await signInThroughBrowser(new Browser(), request.url, "gus@example.com", PASSWORD);
    await expect(client.authorizationCodeGrant(config, new URL(callback as string), {
      pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: request.state,
    })).rejects.toMatchObject({ error: "invalid_grant" });
    const forged = await relyingParty(server.url, { clientId: registered.clientId, clientSecret: "not-the-secret" });
    const again = await authorizationRequest(forged);
    const signedIn = await signInThroughBrowser(new Browser(), again.url, "gus@example.com", PASSWORD);
    await expect(client.authorizationCodeGrant(forged, new URL(signedIn.callback as string), {
      pkceCodeVerifier: again.verifier, expectedState: again.state,
    })).rejects.toMatchObject({ status: 401 });
  });

  it("token, revocation and introspection endpoints answer garbage with 4xx", async () => {
    const { clientId, clientSecret } = await registerClient(server);
    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`;
    const form = { "content-type": "application/x-www-form-urlencoded", authorization: basic };
    for (const [path, body] of [
      ["/oidc/token", "grant_type=authorization_code&code=garbage&redirect_uri=x"],
      ["/oidc/token", "grant_type=password&username=a&password=b"],
      ["/oidc/token", "grant_type=refresh_token&refresh_token=garbage"],
      ["/oidc/token", "%%%"],
      ["/oidc/token/introspection", ""],
      ["/oidc/token/revocation", ""],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method: "POST", headers: form, body });
      expect(response.status, `${path} ${body}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${path} ${body}`).toBeLessThan(500);
      expect((await response.json() as { error: string }).error).toMatch(/^(invalid_|unsupported_)/);
    }
    const noAuth = await fetch(`${server.url}/oidc/me`);
    expect(noAuth.status).toBe(401);
    const garbage = await fetch(`${server.url}/oidc/me`, { headers: { authorization: "Bearer garbage" } });
    expect(garbage.status).toBe(401);
  });

  it("the sign-in page with a stale or forged interaction id stays a clear 400, checking no password", async () => {
    const get = await fetch(`${server.url}/login?interaction=forged`);
    expect(get.status).toBe(400);
    expect(await get.text()).toContain("expired or is not valid");
    const post = await fetch(`${server.url}/login`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: new URLSearchParams({ email: "gus@example.com", password: "wrong", interaction: "../../etc" }).toString(),
    });
    expect(post.status).toBe(400);
    const row = await server.auth.database.db.selectFrom("users").select("password_failures").where("email", "=", "gus@example.com").executeTakeFirstOrThrow();
    expect(row.password_failures).toBe(0);
  });

  it("the admin API refuses bad clients with 400 and changes nothing", async () => {
    const admin = await postLogin(server.app, "root@example.com", "admin-password-1");
    const headers = { authorization: `Bearer ${(admin.json() as { token: string }).token}` };
    const before = (await server.app.inject({ method: "GET", url: "/api/admin/clients", headers })).json() as { clients: unknown[] };
    for (const payload of [
      { name: "x", redirectUris: [] },
      { name: "x", redirectUris: ["not a url"] },
      { name: "x", redirectUris: ["https://app.example/*"] },
      { name: "x", redirectUris: ["https://app.example/cb#frag"] },
      { name: "x", redirectUris: ["javascript:alert(1)"] },
      { name: "", redirectUris: ["https://app.example/cb"] },
      { name: "x", redirectUris: ["https://app.example/cb"], extra: true },
      { name: "x", redirectUris: "https://app.example/cb" },
      { name: "x", redirectUris: ["https://app.example/cb"], public: "yes" },
      // Not in the form URL libraries send (the provider compares strings): refused, not stored.
      { name: "x", redirectUris: ["HTTPS://App.example:443/cb"] },
      { name: "x", redirectUris: ["https://app.example/a b"] },
      { name: "x", redirectUris: ["https://app.example/a/../cb"] },
      { name: "x", redirectUris: ["/cb"] },
    ]) {
      const response = await server.app.inject({ method: "POST", url: "/api/admin/clients", headers, payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ error: "invalid_request" });
    }
    const after = (await server.app.inject({ method: "GET", url: "/api/admin/clients", headers })).json() as { clients: unknown[] };
    expect(after.clients.length).toBe(before.clients.length);
    const normal = await server.app.inject({ method: "POST", url: "/api/admin/clients", headers, payload: { name: "x", redirectUris: ["HTTPS://App.example:443/cb"] } });
    expect(normal.json<{ message: string }>().message).toContain('register it as "https://app.example/cb"');
    const missing = await server.app.inject({ method: "DELETE", url: "/api/admin/clients/nope", headers });
    expect(missing.statusCode).toBe(404);
    // Ids no client has, however odd: a 400 or 404 in the API's one error shape.
    for (const [id, status] of [["a".repeat(100), 404], ["a".repeat(101), 400], ["%zz", 400], ["%E0%A4%A", 400], ["%00", 400]] as const) {
      const response = await fetch(`${server.url}/api/admin/clients/${id}`, { method: "DELETE", headers });
      expect(response.status, id).toBe(status);
      expect(Object.keys(await response.json() as object), id).toEqual(["error", "message"]);
    }
    // A bare origin (an SPA's location.origin) is the one form kept without a trailing slash.
    const spa = await server.app.inject({ method: "POST", url: "/api/admin/clients", headers, payload: { name: "SPA", redirectUris: ["https://spa.example"], public: true } });
    expect(spa.statusCode).toBe(201);
    await server.app.inject({ method: "DELETE", url: `/api/admin/clients/${spa.json<{ clientId: string }>().clientId}`, headers });

    const created = await server.app.inject({
      method: "POST", url: "/api/admin/clients", headers,
      payload: { name: "Gateway", redirectUris: ["https://gw.example/cb"] },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json() as { clientId: string; clientSecret: string; public: boolean };
    expect(body.public).toBe(false);
    expect(body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await server.auth.database.db.selectFrom("oidc_clients").selectAll().where("client_id", "=", body.clientId).executeTakeFirstOrThrow();
    expect(stored.secret_hash).not.toContain(body.clientSecret);
    expect(Object.keys(created.json() as object)).toEqual([...CLIENT_FIELDS, "clientSecret"]);
    const listed = (await server.app.inject({ method: "GET", url: "/api/admin/clients", headers })).body;
    for (const listedClient of (JSON.parse(listed) as { clients: object[] }).clients) expect(Object.keys(listedClient)).toEqual(CLIENT_FIELDS);
    expect(listed).not.toContain(body.clientSecret);
    const user = await postLogin(server.app, "gus@example.com", PASSWORD);
    const forbidden = await server.app.inject({ method: "GET", url: "/api/admin/clients", headers: { authorization: `Bearer ${(user.json() as { token: string }).token}` } });
    expect(forbidden.statusCode).toBe(403);
  });
});
