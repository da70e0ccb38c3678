import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { bucketRange, STATS_WINDOW_MAX_MS, STATS_WINDOW_MIN_MS } from "../../src/http/routes/admin-stats.ts";
import {
  countEventsByBucket, insertEvents, migrate, openDatabase, pruneExpired, topSourceIps, topTargetedAccounts,
  type BucketRange, type Database, type SecurityEvent,
} from "../../src/store/index.ts";
import { STAT_KEEP_MS, type StatKind, type StatResolution } from "../../src/store/stat-counts.ts";
import { counterUnits, exactResolution } from "../../src/store/stats.ts";
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

/** Every stats window's reads, as (kind, resolution, oldest bucket start) of the rows it reads. */
function oldestReads(windowMs: number, now: number): Array<{ kind: StatKind; res: number; start: number }> {
  const range = bucketRange(windowMs, now);
  const reads = [{ kind: "t" as StatKind, res: exactResolution(range), start: range.from }];
  const units = counterUnits(range);
  for (const res of new Set(units.map((u) => u.res))) {
    const start = Math.min(...units.filter((u) => u.res === res).map((u) => u.start));
    for (const kind of ["e", "i"] as const) reads.push({ kind, res, start });
  }
  return reads;
}

describe("the counters' keep (STAT_KEEP_MS)", () => {
  it("outlives every row any allowed stats window reads", () => {
    // The oldest row a window reads is at most its length plus one chart bucket old, and grows
    // with the length within a bucket size: so every minute from 5 min to 30 d, plus each
    // bucket size's longest window and the next millisecond, at now values of every alignment.
    const windows = new Set<number>();
    for (let ms = STATS_WINDOW_MIN_MS; ms <= STATS_WINDOW_MAX_MS; ms += 60_000) windows.add(ms);
    for (const seconds of [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]) {
      for (const ms of [48 * seconds * 1000, 48 * seconds * 1000 + 1]) if (ms >= STATS_WINDOW_MIN_MS && ms <= STATS_WINDOW_MAX_MS) windows.add(ms);
    }
    const nows = [NOW, NOW + 1, NOW - 1, NOW + 5 * 60_000 + 10_001, NOW + 11 * HOUR + 59 * 60_000, NOW + 12 * HOUR - 1, NOW + 17 * HOUR + 3_333];
    const oldest = new Map<string, number>();
    for (const windowMs of windows) {
      for (const now of nows) {
        for (const read of oldestReads(windowMs, now)) {
          const key = `${read.kind} ${read.res}`;
          oldest.set(key, Math.max(oldest.get(key) ?? 0, now - read.start));
          const keep = STAT_KEEP_MS[read.kind][read.res as StatResolution];
          if (keep !== null && now - read.start >= keep) throw new Error(`window ${windowMs} ms at ${now} reads ${key} rows ${now - read.start} ms old`);
        }
      }
    }
    // What the keep constants say (and the hourly rows per key a week of margin beyond the 24.5 d read).
    expect(oldest.get("e 10")).toBeLessThanOrEqual(98 * 60_000);
    expect(oldest.get("e 300")).toBeLessThanOrEqual(24.5 * HOUR);
    expect(oldest.get("e 3600")).toBeLessThanOrEqual(24.5 * DAY);
    expect(oldest.get("i 3600")).toBeLessThanOrEqual(24.5 * DAY);
    expect(oldest.get("t 3600")).toBeLessThanOrEqual(24.5 * DAY);
    expect(STAT_KEEP_MS.e[3600]).toBe(31 * DAY);
    expect(STAT_KEEP_MS.i[3600]).toBe(31 * DAY);
  });
});

describe.each(DIALECTS)("pruning the hourly counters per e-mail and address (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  afterEach(async () => {
    await database?.close();
    await test?.drop();
  });

  /** Straight from the events: the top 10 of a column and the chart, what the counters must equal. */
  const truth = async (range: BucketRange, column: "email" | "ip") => {
    const rows = await database.db.selectFrom("events")
      .select([sql<string>`${sql.ref(column)}`.as("key"), sql<number>`COUNT(*)`.as("failures")])
      .where("type", "=", "login.failed").where("at", ">=", range.from).where("at", "<", range.to)
      .groupBy(column).orderBy("failures", "desc").orderBy(column, "asc").limit(10).execute();
    return rows.map((r) => ({ key: r.key, failures: Number(r.failures) }));
  };
  const chartTruth = async (range: BucketRange) => {
    const rows = await database.db.selectFrom("events").select("at").where("at", ">=", range.from).where("at", "<", range.to).execute();
    const failures = new Map<number, number>();
    for (const row of rows) {
      const index = Math.floor((Number(row.at) - range.from) / range.bucketMs);
      failures.set(index, (failures.get(index) ?? 0) + 1);
    }
    return [...failures.entries()].sort(([a], [b]) => a - b).map(([index, n]) => ({ index, failures: n, lockouts: 0 }));
  };
  const read = async (windowMs: number, now: number) => {
    const range = bucketRange(windowMs, now);
    return {
      chart: await countEventsByBucket(database.db, range),
      accounts: (await topTargetedAccounts(database.db, range, 10)).map((a) => ({ key: a.email, failures: a.failures })),
      ips: (await topSourceIps(database.db, range, 10)).map((a) => ({ key: a.ip, failures: a.failures })),
      range,
    };
  };
  const rowsOlderThan = async (kind: StatKind, res: number, before: number): Promise<number> => Number((await database.db.selectFrom("stat_counts")
    .select((eb) => eb.fn.countAll<number>().as("n")).where("kind", "=", kind).where("res", "=", res).where("start", "<", before)
    .executeTakeFirstOrThrow()).n);

  it("leaves every allowed window's answer exact", async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    // 45 days of failures, every hour and a half: 12 e-mails and 9 addresses whose ranking
    // changes from day to day, so a window that read a pruned row would count differently.
    const events: SecurityEvent[] = [];
    for (let at = NOW - 45 * DAY; at < NOW; at += 90 * 60_000 + 7_001) {
      const step = Math.floor((at - NOW) / (90 * 60_000));
      for (let k = 0; k < 1 + (Math.abs(step) % 4); k++) {
        events.push({ ...failure(at + k, `a${(Math.abs(step) * 7 + k) % 12}@example.com`), ip: `192.0.2.${(Math.abs(step) * 5 + k) % 9}` });
      }
    }
    for (let i = 0; i < events.length; i += 500) await insertEvents(database.db, events.slice(i, i + 500));
    const windows = [5 * 60_000, 96 * 60_000, 97 * 60_000, HOUR, 8 * HOUR, DAY, DAY + 1, 2 * DAY, 6 * DAY, 7 * DAY, 12 * DAY, 24 * DAY, 24 * DAY + 1, 29 * DAY, 30 * DAY];
    const nows = [NOW, NOW + 7 * HOUR + 13 * 60_000, NOW + 3 * DAY + 30 * 60_000];
    const before = [];
    for (const windowMs of windows) for (const now of nows) before.push(await read(windowMs, now));
    expect(await rowsOlderThan("e", 3600, NOW - 31 * DAY)).toBeGreaterThan(0);
    expect(await rowsOlderThan("i", 3600, NOW - 31 * DAY)).toBeGreaterThan(0);

    let pauses = 0;
    const counts = await pruneExpired(database.db, { now: NOW, retentionMs: 90 * DAY, batchSize: 50, pause: async () => { pauses++; } });
    expect(counts.events).toBe(0);
    expect(pauses).toBeGreaterThan(10);
    expect(await rowsOlderThan("e", 3600, NOW - 31 * DAY)).toBe(0);
    expect(await rowsOlderThan("i", 3600, NOW - 31 * DAY)).toBe(0);
    // The totals' hourly rows and the daily rows per key stay, as long as their events.
    expect(await rowsOlderThan("t", 3600, NOW - 31 * DAY)).toBe(14 * 16);
    expect(await rowsOlderThan("e", 86400, NOW - 31 * DAY)).toBeGreaterThan(14 * 11);

    let i = 0;
    for (const windowMs of windows) {
      for (const now of nows) {
        const after = await read(windowMs, now);
        const label = `window ${windowMs} ms at ${now}`;
        expect(after, label).toEqual(before[i++]);
        expect(after.accounts, label).toEqual(await truth(after.range, "email"));
        expect(after.ips, label).toEqual(await truth(after.range, "ip"));
        expect(after.chart, label).toEqual(await chartTruth(after.range));
      }
    }
  });
});
