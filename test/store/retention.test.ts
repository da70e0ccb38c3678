import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { bucketRange } from "../../src/http/routes/admin-stats.ts";
import {
  countEventsByBucket, insertEvents, migrate, openDatabase, pruneExpired, topTargetedAccounts,
  type Database, type SecurityEvent,
} from "../../src/store/index.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse("2026-11-22T12:00:00Z");
const RETENTION = 10 * DAY;

function failure(at: number, email: string): SecurityEvent {
  return { type: "login.failed", at, userId: null, email, ip: "192.0.2.1", userAgent: null, message: "m", details: {} };
}

const USER = {
  password_hash: "x", role: "user", created_at: 0, lockout_count: 0, password_failures: 0, password_slots: "[]",
  mfa_failures: 0, mfa_slots: "[]", mfa_enabled: 0, version: 0,
} as const;

describe("DEADBOLT_EVENT_RETENTION", () => {
  it("defaults to 90 days, takes 0 for forever, and refuses what is out of range", () => {
    expect(loadConfig({}).eventRetentionMs).toBe(90 * DAY);
    expect(loadConfig({ DEADBOLT_EVENT_RETENTION: "0" }).eventRetentionMs).toBe(0);
    expect(loadConfig({ DEADBOLT_EVENT_RETENTION: "30d" }).eventRetentionMs).toBe(30 * DAY);
    for (const bad of ["30m", "3651d", "forever", "-1d", "0d"]) {
      expect(() => loadConfig({ DEADBOLT_EVENT_RETENTION: bad }), bad).toThrow(/DEADBOLT_EVENT_RETENTION=.*0 \(keep forever\) or a duration from 1h to 3650d/);
    }
  });
});

describe.each(DIALECTS)("pruneExpired (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  afterEach(async () => {
    await database?.close();
    await test?.drop();
  });

  const count = async (table: "events" | "sessions" | "tokens" | "outbox"): Promise<number> =>
    Number((await database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);

  const seed = async (): Promise<void> => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    await database.db.insertInto("users").values({ ...USER, id: "u1", email: "u1@example.com" }).execute();
    // 30 old failures (11–40 days ago) and 20 recent ones (within the last 9 days).
    const old = Array.from({ length: 30 }, (_, i) => failure(NOW - RETENTION - (i + 1) * DAY, `old${i % 3}@example.com`));
    const recent = Array.from({ length: 20 }, (_, i) => failure(NOW - (i % 9) * DAY - 60_000, `new${i % 4}@example.com`));
    await insertEvents(database.db, [...old, ...recent]);
    const session = (hash: string, expiresAt: number) => ({
      token_hash: hash, user_id: "u1", created_at: 0, last_seen_at: 0, expires_at: expiresAt, ip: null, user_agent: null,
    });
    await database.db.insertInto("sessions").values([session("s-old", NOW - RETENTION - 1), session("s-live", NOW + DAY)]).execute();
    const token = (hash: string, expiresAt: number, usedAt: number | null) => ({
      token_hash: hash, kind: "unlock", user_id: "u1", created_at: 0, expires_at: expiresAt, used_at: usedAt,
    });
    await database.db.insertInto("tokens").values([
      token("t-expired", NOW - RETENTION - 1, null), token("t-used", NOW + DAY, NOW - RETENTION - 1),
      token("t-live", NOW + DAY, null), token("t-used-lately", NOW + DAY, NOW - HOUR),
    ]).execute();
    const mail = (key: string, sentAt: number | null) => ({
      dedupe_key: key, kind: "lock", user_id: "u1", to_email: "u1@example.com", payload: "{}", created_at: 0, due_at: 0,
      attempts: 0, last_error: null, status: sentAt === null ? "pending" : "sent", claimed_until: null, claimed_by: null, sent_at: sentAt,
    });
    await database.db.insertInto("outbox").values([mail("m-old", NOW - RETENTION - 1), mail("m-new", NOW - HOUR), mail("m-pending", null)]).execute();
  };

  it("deletes, in small batches, what is older than the retention and keeps the rest and the recent stats", async () => {
    await seed();
    const range = bucketRange(7 * DAY, NOW);
    const chartBefore = await countEventsByBucket(database.db, range);
    const topBefore = await topTargetedAccounts(database.db, range, 10);
    let pauses = 0;
    const counts = await pruneExpired(database.db, { now: NOW, retentionMs: RETENTION, batchSize: 7, pause: async () => { pauses++; } });

    expect(counts).toMatchObject({ events: 30, sessions: 1, tokens: 2, mails: 1 });
    expect(pauses).toBeGreaterThanOrEqual(4); // 30 events in batches of 7, at least
    expect(await count("events")).toBe(20);
    expect((await database.db.selectFrom("sessions").select("token_hash").execute()).map((r) => r.token_hash)).toEqual(["s-live"]);
    expect((await database.db.selectFrom("tokens").select("token_hash").orderBy("token_hash").execute()).map((r) => r.token_hash))
      .toEqual(["t-live", "t-used-lately"]);
    expect((await database.db.selectFrom("outbox").select("dedupe_key").orderBy("dedupe_key").execute()).map((r) => r.dedupe_key))
      .toEqual(["m-new", "m-pending"]);
    // The counters of pruned events went with them; the last week reads as before.
    const old = await database.db.selectFrom("stat_counts").select("key").where("key", "like", "old%").execute();
    expect(old).toEqual([]);
    expect(await countEventsByBucket(database.db, range)).toEqual(chartBefore);
    expect(await topTargetedAccounts(database.db, range, 10)).toEqual(topBefore);
    expect(await topTargetedAccounts(database.db, bucketRange(30 * DAY, NOW), 10)).toEqual(
      [0, 1, 2, 3].map((i) => ({ email: `new${i}@example.com`, userId: null, failures: 5 })));
    // Counters finer than an hour outlive no window that reads them.
    const fine = await database.db.selectFrom("stat_counts").select("start").where("res", "in", [10, 300]).execute();
    expect(fine.every((r) => Number(r.start) >= NOW - 2 * DAY)).toBe(true);

    expect(await pruneExpired(database.db, { now: NOW, retentionMs: RETENTION })).toEqual({ events: 0, statCounts: 0, sessions: 0, tokens: 0, mails: 0 });
  });

  it("keeps every event, session, token and mail with a retention of 0", async () => {
    await seed();
    const counts = await pruneExpired(database.db, { now: NOW, retentionMs: 0 });
    expect(counts).toMatchObject({ events: 0, sessions: 0, tokens: 0, mails: 0 });
    expect([await count("events"), await count("sessions"), await count("tokens"), await count("outbox")]).toEqual([50, 2, 4, 3]);
  });
});
