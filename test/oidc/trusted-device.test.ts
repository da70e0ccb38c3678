import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByEmail } from "../../src/store/index.ts";
import { postLogin } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  authorizationRequest, Browser, registerClient, relyingParty, signInApp, signInThroughBrowser, startOidcServer, type OidcServer,
} from "./support.ts";

const PASSWORD = "correct horse battery staple";
const THRESHOLD = 3;

describe.each(DIALECTS)("trusted devices on the OpenID Connect sign-in (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD) } });
  });
  afterAll(async () => server.close());

  it("while an attacker has the account locked for untrusted clients, the user's trusted browser still gets a code", async () => {
    await server.createUser("pia@example.com", PASSWORD);
    const config = await relyingParty(server.url, await registerClient(server));
    const trusted = new Browser();
    await signInApp(server, config, "pia@example.com", PASSWORD, trusted);
    expect(trusted.cookies.has("deadbolt_device")).toBe(true);

    // Someone who only knows the address locks it (from clients without the device cookie).
    for (let i = 0; i < THRESHOLD; i++) await postLogin(server.app, "pia@example.com", `guess-${i}`);
    expect((await findUserByEmail(server.auth.database.db, "pia@example.com"))?.locked_until).not.toBeNull();

    // An untrusted browser with the right password: the generic failure, no code.
    const stranger = await signInThroughBrowser(new Browser(), (await authorizationRequest(config)).url, "pia@example.com", PASSWORD);
    expect(stranger.callback).toBeNull();
    expect(stranger.page.status).toBe(401);

    // The user's own browser: its provider session no longer counts during the lock, so it is
    // sent to the sign-in, where the guard lets the trusted device through.
    const request = await authorizationRequest(config);
    const own = await signInThroughBrowser(trusted, request.url, "pia@example.com", PASSWORD);
    expect(own.callback).not.toBeNull();
    const tokens = await client.authorizationCodeGrant(config, new URL(own.callback as string), {
      pkceCodeVerifier: request.verifier, expectedState: request.state,
    });
    expect(tokens.claims()?.email).toBe("pia@example.com");
  });
});
