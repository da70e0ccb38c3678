import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdapterClass } from "../../src/oidc/adapter.ts";
import { pruneExpiredPayloads } from "../../src/oidc/index.ts";
import { PRUNE_BATCH } from "../../src/oidc/payloads.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

describe.each(DIALECTS)("the oidc-provider adapter on the deadbolt database (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => t.close());

  it("stores, finds, consumes, revokes by grant and prunes what expired", async () => {
    const Adapter = createAdapterClass(t.auth.database.db, t.clock.now);
    const codes = new Adapter("AuthorizationCode");
    const tokens = new Adapter("RefreshToken");
    const sessions = new Adapter("Session");
    await codes.upsert("c1", { grantId: "g1", clientId: "x", kind: "AuthorizationCode" }, 60);
    await tokens.upsert("r1", { grantId: "g1", clientId: "x", kind: "RefreshToken" }, 3600);
    await tokens.upsert("r2", { grantId: "g2", clientId: "x", kind: "RefreshToken" }, 3600);
    await sessions.upsert("s1", { uid: "u1", kind: "Session" }, 7200);

    expect(await codes.find("c1")).toMatchObject({ grantId: "g1" });
    expect(await tokens.find("c1")).toBeUndefined(); // models do not mix
    expect(await sessions.findByUid("u1")).toMatchObject({ kind: "Session" });

    await codes.consume("c1");
    const consumed = await codes.find("c1");
    expect(consumed?.consumed).toBe(Math.floor(t.clock.now() / 1000));

    // A second consume keeps the time of the first.
    t.clock.advance(5_000);
    await codes.consume("c1");
    expect((await codes.find("c1"))?.consumed).toBe(consumed?.consumed);

    await tokens.revokeByGrantId("g1");
    expect(await codes.find("c1")).toBeUndefined();
    expect(await tokens.find("r1")).toBeUndefined();
    expect(await tokens.find("r2")).toMatchObject({ grantId: "g2" });

    // Past its TTL a row is not found even before pruning, then pruning deletes it.
    t.clock.advance(3600_000);
    expect(await tokens.find("r2")).toBeUndefined();
    expect(await sessions.findByUid("u1")).toMatchObject({ kind: "Session" });
    expect(await pruneExpiredPayloads(t.auth.database.db, t.clock.now())).toBe(1);
    const left = await t.auth.database.db.selectFrom("oidc_payloads").select(["model", "id"]).execute();
    expect(left).toEqual([{ model: "Session", id: "s1" }]);
    expect(await pruneExpiredPayloads(t.auth.database.db, t.clock.now())).toBe(0);

    await sessions.destroy("s1");
    expect(await sessions.find("s1")).toBeUndefined();
  });

  it("one pruning run deletes every expired row, however many, a batch at a time", async () => {
    const db = t.auth.database.db;
    const now = t.clock.now();
    const expired = PRUNE_BATCH * 2 + 7;
    const rows = Array.from({ length: expired + 3 }, (_, i) => ({
      model: "AccessToken", id: `bulk-${i}`, payload: "{}", grant_id: null, account_id: null, client_id: "bulk", uid: null,
      user_code: null, consumed_at: null, expires_at: i < expired ? now - 1000 - (i % 50) : now + 60_000,
    }));
    for (let i = 0; i < rows.length; i += 200) await db.insertInto("oidc_payloads").values(rows.slice(i, i + 200)).execute();
    let pauses = 0;
    expect(await pruneExpiredPayloads(db, now, { pause: async () => { pauses++; } })).toBe(expired);
    expect(pauses).toBeGreaterThanOrEqual(2);
    const left = await db.selectFrom("oidc_payloads").select("id").where("client_id", "=", "bulk").execute();
    expect(left).toHaveLength(3);
  });
});
