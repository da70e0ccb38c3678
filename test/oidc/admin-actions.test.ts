import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeAt, enroll, PASSWORD } from "../mfa/helpers.ts";
import { postLogin } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  authorizationRequest, Browser, hiddenField, REDIRECT_URI, registerClient, relyingParty, signInApp, startOidcServer, userinfoStatus,
  type OidcServer,
} from "./support.ts";

describe.each(DIALECTS)("admin actions revoke what apps hold, through the admin API (%s)", (dialect) => {
  let server: OidcServer;
  let headers: Record<string, string>;
  beforeAll(async () => {
    server = await startOidcServer(dialect);
    await server.createUser("root@example.com", "admin-password-1", "admin");
    const admin = await postLogin(server.app, "root@example.com", "admin-password-1");
    headers = { authorization: `Bearer ${(admin.json() as { token: string }).token}` };
  });
  afterAll(async () => server.close());

  async function holding(email: string) {
    const config = await relyingParty(server.url, await registerClient(server));
    const tokens = await signInApp(server, config, email, PASSWORD);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(200);
    return { config, tokens };
  }

  async function expectRevoked({ config, tokens }: Awaited<ReturnType<typeof holding>>) {
    expect(await userinfoStatus(config, tokens.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  }

  it("disable", async () => {
    const user = await server.createUser("quinn@example.com", PASSWORD);
    const held = await holding("quinn@example.com");
    expect((await server.app.inject({ method: "POST", url: `/api/admin/users/${user.id}/disable`, headers })).statusCode).toBe(200);
    await expectRevoked(held);
  });

  it("reset-mfa", async () => {
    const enrolled = await enroll(server, "rosa@example.com");
    const config = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser();
    const request = await authorizationRequest(config);
    const landed = await browser.follow(request.url.toString(), REDIRECT_URI);
    const interaction = hiddenField(await landed.response.text(), "interaction");
    await browser.follow(`${server.url}/login`, REDIRECT_URI, { form: { email: enrolled.email, password: PASSWORD, interaction } });
    const back = await browser.follow(`${server.url}/login/mfa`, REDIRECT_URI, { form: { code: codeAt(server, enrolled.secret), interaction } });
    const tokens = await client.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: request.verifier, expectedState: request.state });
    expect(await userinfoStatus(config, tokens.access_token)).toBe(200);
    expect((await server.app.inject({ method: "POST", url: `/api/admin/users/${enrolled.user.id}/reset-mfa`, headers })).statusCode).toBe(200);
    await expectRevoked({ config, tokens });
  });

  it("delete", async () => {
    const user = await server.createUser("sam@example.com", PASSWORD);
    const held = await holding("sam@example.com");
    expect((await server.app.inject({ method: "DELETE", url: `/api/admin/users/${user.id}`, headers })).statusCode).toBe(204);
    expect(await userinfoStatus(held.config, held.tokens.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(held.config, held.tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
  });
});
