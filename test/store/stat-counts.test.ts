import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketRange } from "../../src/http/routes/admin-stats.ts";
import {
  countEventsByBucket, insertEvents, migrate, openDatabase, topSourceIps, topTargetedAccounts,
  type BucketRange, type Database, type SecurityEvent, type TopSearch,
} from "../../src/store/index.ts";
import { backfillStatCounts } from "../../src/store/migrations/007-scale.ts";
import { topKeys } from "../../src/store/stats.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-22T12:00:00Z");

/** mulberry32: the same pseudo-random events on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An attack: a few accounts and addresses stand out over a crowd of one-off failures. */
function attack(count: number, rnd: () => number): SecurityEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const hot = rnd() < 0.3;
    const email = hot ? `target${Math.floor(rnd() * 12)}@example.com` : `user${Math.floor(rnd() * 5000)}@example.com`;
    const type = i % 37 === 0 ? "account.locked" : "login.failed";
    return {
      type, at: T0 - Math.floor(rnd() * 80 * HOUR), userId: rnd() < 0.5 ? `id-${email}` : null,
      email: rnd() < 0.02 ? null : email,
      ip: rnd() < 0.02 ? null : hot ? `203.0.113.${Math.floor(rnd() * 15)}` : `198.51.${Math.floor(rnd() * 50)}.${Math.floor(rnd() * 250)}`,
      userAgent: null, message: "m", details: {},
    } satisfies SecurityEvent;
  });
}

/** What the console computed before the counters: straight from the events. */
async function fromEvents(database: Database, range: BucketRange, column: "email" | "ip", limit = 10) {
  const rows = await database.db.selectFrom("events")
    .select([sql<string>`${sql.ref(column)}`.as("key"), sql<string | null>`MAX(user_id)`.as("userId"), sql<number>`COUNT(*)`.as("failures")])
    .where("type", "=", "login.failed").where(column, "is not", null)
    .where("at", ">=", range.from).where("at", "<", range.to)
    .groupBy(column).orderBy("failures", "desc").orderBy(column, "asc").limit(limit).execute();
  return rows.map((r) => ({ key: r.key, userId: column === "email" ? r.userId : undefined, failures: Number(r.failures) }));
}

async function bucketsFromEvents(database: Database, range: BucketRange) {
  const rows = await database.db.selectFrom("events").select(["type", "at"])
    .where("type", "in", ["login.failed", "account.locked"]).where("at", ">=", range.from).where("at", "<", range.to).execute();
  const byIndex = new Map<number, { index: number; failures: number; lockouts: number }>();
  for (const row of rows) {
    const index = Math.floor((Number(row.at) - range.from) / range.bucketMs);
    const bucket = byIndex.get(index) ?? { index, failures: 0, lockouts: 0 };
    if (row.type === "login.failed") bucket.failures++;
    else bucket.lockouts++;
    byIndex.set(index, bucket);
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

const WINDOWS = [5 * 60_000, HOUR, 6 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR, 30 * 24 * HOUR];

describe.each(DIALECTS)("stats counters (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    const events = attack(4000, random(11));
    for (let i = 0; i < events.length; i += 100) await insertEvents(database.db, events.slice(i, i + 100));
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  const expectSameAsEvents = async (search: TopSearch = {}): Promise<void> => {
    for (const windowMs of WINDOWS) {
      for (const now of [T0, T0 - 7 * HOUR - 12_345]) {
        const range = bucketRange(windowMs, now);
        expect(await countEventsByBucket(database.db, range), `${windowMs}`).toEqual(await bucketsFromEvents(database, range));
        const accounts = await topTargetedAccounts(database.db, range, 10, search);
        expect(accounts.map((a) => ({ key: a.email, userId: a.userId, failures: a.failures })), `${windowMs} accounts`)
          .toEqual(await fromEvents(database, range, "email"));
        const ips = await topSourceIps(database.db, range, 10, search);
        expect(ips.map((a) => ({ key: a.ip, userId: undefined, failures: a.failures })), `${windowMs} ips`)
          .toEqual(await fromEvents(database, range, "ip"));
      }
    }
  };

  it("give the numbers a scan of the events gives, for every window, from the bounded lists", async () => {
    await expectSameAsEvents();
  });

  it("give exact counts from lists of a few rows, and the exact ranking whenever they say so", async () => {
    let exact = 0;
    let inexact = 0;
    for (const search of [{ listLength: 1, candidates: 10 }, { listLength: 3, candidates: 12 }, { listLength: 8 }]) {
      for (const windowMs of WINDOWS) {
        const range = bucketRange(windowMs, T0);
        for (const [kind, column] of [["e", "email"], ["i", "ip"]] as const) {
          const truth = await fromEvents(database, range, column, 100_000);
          const counts = new Map(truth.map((t) => [t.key, t.failures]));
          const result = await topKeys(database.db, kind, range, 10, search);
          const label = `${column} ${windowMs} ${JSON.stringify(search)}`;
          // Every count is the events' count, and the list is in rank order.
          for (const t of result.top) expect(t.failures, label).toBe(counts.get(t.key));
          expect([...result.top].sort((a, b) => b.failures - a.failures || (a.key < b.key ? -1 : 1)), label).toEqual(result.top);
          if (result.exact) {
            exact++;
            expect(result.top.map((t) => ({ key: t.key, failures: t.failures })), label)
              .toEqual(truth.slice(0, 10).map((t) => ({ key: t.key, failures: t.failures })));
          } else {
            inexact++;
          }
        }
      }
    }
    // Both outcomes are exercised: short lists cannot settle every window.
    expect(exact).toBeGreaterThan(0);
    expect(inexact).toBeGreaterThan(0);
  });

  it("are rebuilt from the events by the migration's backfill", async () => {
    const before = await database.db.selectFrom("stat_counts").selectAll().orderBy("kind").orderBy("res").orderBy("key").orderBy("start").execute();
    expect(before.length).toBeGreaterThan(1000);
    await database.db.deleteFrom("stat_counts").execute();
    await backfillStatCounts(database.db);
    const after = await database.db.selectFrom("stat_counts").selectAll().orderBy("kind").orderBy("res").orderBy("key").orderBy("start").execute();
    expect(after).toEqual(before);
  });
});
