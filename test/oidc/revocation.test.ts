import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser, enableUser } from "../../src/auth/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { postLogin } from "../support/app.ts";
import {
  authorizationRequest, Browser, registerClient, relyingParty, signInApp, signInThroughBrowser, startOidcServer, userinfoStatus,
  type OidcServer,
} from "./support.ts";

const PASSWORD = "correct horse battery staple";

describe.each(DIALECTS)("revocation reaches the apps at once (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect);
    await server.createUser("root@example.com", "admin-password-1", "admin");
  });
  afterAll(async () => server.close());

  it("disabling a user: refresh fails, userinfo 401, introspection inactive; enabling does not bring the tokens back", async () => {
    const user = await server.createUser("bob@example.com", PASSWORD);
    const config = await relyingParty(server.url, await registerClient(server));
    const tokens = await signInApp(server, config, "bob@example.com", PASSWORD);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(200);

    const disabled = await disableUser(server.auth, user.id, CLI_ACTOR);
    expect(disabled.ok).toBe(true);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(config, tokens.refresh_token as string)).active).toBe(false);

    // A disabled user signing in again gets the generic failure, not a code.
    const request = await authorizationRequest(config);
    const again = await signInThroughBrowser(new Browser(), request.url, "bob@example.com", PASSWORD);
    expect(again.callback).toBeNull();
    expect(again.page.status).toBe(401);

    await enableUser(server.auth, user.id, CLI_ACTOR);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("deleting a client through the admin API: its tokens die, other clients' tokens live", async () => {
    await server.createUser("carol@example.com", PASSWORD);
    const doomed = await registerClient(server);
    const kept = await registerClient(server);
    const doomedConfig = await relyingParty(server.url, doomed);
    const keptConfig = await relyingParty(server.url, kept);
    const doomedTokens = await signInApp(server, doomedConfig, "carol@example.com", PASSWORD);
    const keptTokens = await signInApp(server, keptConfig, "carol@example.com", PASSWORD);

    const admin = await postLogin(server.app, "root@example.com", "admin-password-1");
    const token = (admin.json() as { token: string }).token;
    const deleted = await server.app.inject({ method: "DELETE", url: `/api/admin/clients/${doomed.clientId}`, headers: { authorization: `Bearer ${token}` } });
    expect(deleted.statusCode).toBe(204);

    expect(await userinfoStatus(doomedConfig, doomedTokens.access_token)).toBe(401);
    // The client itself is gone: its credentials no longer authenticate.
    await expect(client.refreshTokenGrant(doomedConfig, doomedTokens.refresh_token as string))
      .rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: "invalid_client" } }] });
    const rows = await server.auth.database.db.selectFrom("oidc_payloads").select("id").where("client_id", "=", doomed.clientId).execute();
    expect(rows).toEqual([]);

    expect(await userinfoStatus(keptConfig, keptTokens.access_token)).toBe(200);
    expect((await client.refreshTokenGrant(keptConfig, keptTokens.refresh_token as string)).access_token).toBeTypeOf("string");
  });

  it("deleting a user deletes what was issued to them (foreign key), so nothing outlives the account", async () => {
    const user = await server.createUser("dave@example.com", PASSWORD);
    const config = await relyingParty(server.url, await registerClient(server));
    const tokens = await signInApp(server, config, "dave@example.com", PASSWORD);
    const db = server.auth.database.db;
    expect((await db.selectFrom("oidc_payloads").select("id").where("account_id", "=", user.id).execute()).length).toBeGreaterThan(0);
    await db.deleteFrom("sessions").where("user_id", "=", user.id).execute();
    await db.deleteFrom("users").where("id", "=", user.id).execute();
    expect(await db.selectFrom("oidc_payloads").select("id").where("account_id", "=", user.id).execute()).toEqual([]);
    expect(await userinfoStatus(config, tokens.access_token)).toBe(401);
  });
});
