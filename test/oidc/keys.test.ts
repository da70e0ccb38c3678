import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureKeys, KEY_ACTIVATION_DELAY_MS, listKeys, RETIRED_KEY_GRACE_MS, rotateKeys } from "../../src/oidc/index.ts";
import { KEY_REFRESH_MS } from "../../src/oidc/service.ts";
import { DIALECTS } from "../support/databases.ts";
import { registerClient, relyingParty, signInApp, startOidcServer, type OidcServer } from "./support.ts";

const PASSWORD = "correct horse battery staple";

async function published(server: OidcServer): Promise<string[]> {
  const metadata = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json() as { jwks_uri: string };
  const jwks = await (await fetch(metadata.jwks_uri)).json() as { keys: Array<{ kid: string }> };
  return jwks.keys.map((key) => key.kid).sort();
}

function headerKid(idToken: string): string {
  return (JSON.parse(Buffer.from(idToken.split(".")[0] as string, "base64url").toString()) as { kid: string }).kid;
}

describe.each(DIALECTS)("signing keys (%s)", (dialect) => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer(dialect);
    await server.createUser("ivy@example.com", PASSWORD);
  });
  afterAll(async () => server.close());

  it("are generated once, even by several callers at once, and stored sealed", async () => {
    const db = server.auth.database.db;
    const deps = { secretKey: server.auth.secretKey, now: server.clock.now(), randomBytes };
    await Promise.all([ensureKeys(db, deps), ensureKeys(db, deps), ensureKeys(db, deps)]);
    const rows = await db.selectFrom("oidc_keys").selectAll().execute();
    expect(rows.map((row) => row.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const row of rows) {
      expect(row.sealed_jwk.startsWith("v1.")).toBe(true);
      expect(row.sealed_jwk).not.toContain("\"d\"");
    }
  });

  it("rotate: the new keys are published first, sign after the delay, and the old ones leave after their tokens expired", async () => {
    const db = server.auth.database.db;
    const config = await relyingParty(server.url, await registerClient(server));
    const before = await listKeys(db, server.clock.now());
    const oldRsa = before.find((key) => key.alg === "RS256")?.kid as string;
    expect(headerKid((await signInApp(server, config, "ivy@example.com", PASSWORD)).id_token as string)).toBe(oldRsa);

    await rotateKeys(db, { secretKey: server.auth.secretKey, now: server.clock.now(), randomBytes });
    const rotated = await listKeys(db, server.clock.now());
    const newRsa = rotated.find((key) => key.alg === "RS256" && key.generation === 2)?.kid as string;
    expect(rotated).toHaveLength(4);

    // The running server re-reads the keys within KEY_REFRESH_MS: published, not yet signing.
    server.clock.advance(KEY_REFRESH_MS);
    expect(await published(server)).toEqual(rotated.map((key) => key.kid).sort());
    expect(headerKid((await signInApp(server, config, "ivy@example.com", PASSWORD)).id_token as string)).toBe(oldRsa);

    server.clock.advance(KEY_ACTIVATION_DELAY_MS);
    const tokens = await signInApp(server, config, "ivy@example.com", PASSWORD);
    expect(headerKid(tokens.id_token as string)).toBe(newRsa);
    expect(await published(server)).toContain(oldRsa);

    server.clock.advance(RETIRED_KEY_GRACE_MS + KEY_REFRESH_MS);
    const after = await published(server);
    expect(after).toHaveLength(2);
    expect(after).not.toContain(oldRsa);
    expect(after).toContain(newRsa);
    // Still a working provider with the new keys only.
    const fresh = await relyingParty(server.url, await registerClient(server));
    expect((await signInApp(server, fresh, "ivy@example.com", PASSWORD)).claims()?.email).toBe("ivy@example.com");
  });
});
