import { sql, type Kysely } from "kysely";
import type { Schema } from "./schema.ts";
import { STAT_RESOLUTIONS, type StatKind, type StatResolution } from "./stat-counts.ts";

/** A time range cut into equal buckets aligned to multiples of `bucketMs` since the epoch. */
export interface BucketRange {
  /** Start of the first bucket (inclusive), epoch ms. */
  readonly from: number;
  /** End of the last bucket (exclusive), epoch ms. */
  readonly to: number;
  readonly bucketMs: number;
}

export interface BucketCounts {
  /** Bucket index from `range.from`. */
  readonly index: number;
  readonly failures: number;
  readonly lockouts: number;
}

export interface UserCounts {
  readonly totalUsers: number;
  readonly lockedNow: number;
  readonly disabledNow: number;
}

export interface TargetedAccount {
  readonly email: string;
  readonly userId: string | null;
  readonly failures: number;
}

export interface SourceIp {
  readonly ip: string;
  readonly failures: number;
}

type Db = Kysely<Schema>;

/** The coarsest counter resolution a chart bucket is an exact sum of. */
function exactResolution(range: BucketRange): StatResolution {
  const res = [...STAT_RESOLUTIONS].reverse().find((r) => range.bucketMs % (r * 1000) === 0 && range.from % (r * 1000) === 0);
  if (res === undefined) throw new Error(`stats buckets must be whole multiples of 10 s, not ${range.bucketMs} ms`);
  return res;
}

/**
 * Failed logins and locks per bucket; buckets without events are absent. Read from the
 * counters (at most a few hundred rows for any window), never from the events.
 */
export async function countEventsByBucket(db: Db, range: BucketRange): Promise<BucketCounts[]> {
  const res = exactResolution(range);
  const rows = await db.selectFrom("stat_counts")
    .select(["start", "failures", "lockouts"])
    .where("kind", "=", "t").where("res", "=", res).where("key", "=", "")
    .where("start", ">=", range.from).where("start", "<", range.to)
    .execute();
  const byIndex = new Map<number, { index: number; failures: number; lockouts: number }>();
  for (const row of rows) {
    const index = Math.floor((Number(row.start) - range.from) / range.bucketMs);
    const bucket = byIndex.get(index) ?? { index, failures: 0, lockouts: 0 };
    bucket.failures += Number(row.failures);
    bucket.lockouts += Number(row.lockouts);
    byIndex.set(index, bucket);
  }
  return [...byIndex.values()].filter((b) => b.failures > 0 || b.lockouts > 0).sort((a, b) => a.index - b.index);
}

/** How many users exist, are locked at `now` (and not disabled), and are disabled. */
export async function countUsers(db: Db, now: number): Promise<UserCounts> {
  // Three index-served counts instead of one pass over every user.
  const [total, locked, disabled] = await Promise.all([
    db.selectFrom("users").select(sql<number>`COUNT(*)`.as("n")).executeTakeFirstOrThrow(),
    db.selectFrom("users").select(sql<number>`COUNT(*)`.as("n"))
      .where("locked_until", ">", now).where("disabled_reason", "is", null).executeTakeFirstOrThrow(),
    db.selectFrom("users").select(sql<number>`COUNT(*)`.as("n"))
      .where("disabled_reason", "is not", null).executeTakeFirstOrThrow(),
  ]);
  return { totalUsers: Number(total.n), lockedNow: Number(locked.n), disabledNow: Number(disabled.n) };
}

interface KeyTotal {
  readonly key: string;
  readonly failures: number;
  readonly userId: string | null;
}

/** Per-bucket lists at this resolution nominate the candidates of a top-10 at `exact`. */
const LIST_RESOLUTION: Readonly<Record<StatResolution, StatResolution>> = { 10: 300, 300: 3600, 3600: 86400, 86400: 86400 };
const FIRST_BATCH = 64;
const MAX_ROUNDS = 5;
const KEY_CHUNK = 500;

function byRank(a: KeyTotal, b: KeyTotal): number {
  return b.failures - a.failures || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

async function exactTotals(db: Db, kind: StatKind, res: StatResolution, range: BucketRange, keys: readonly string[]): Promise<KeyTotal[]> {
  const totals: KeyTotal[] = [];
  for (let i = 0; i < keys.length; i += KEY_CHUNK) {
    const rows = await db.selectFrom("stat_counts")
      .select(["key", sql<number>`SUM(failures)`.as("failures"), sql<string | null>`MAX(user_id)`.as("userId")])
      .where("kind", "=", kind).where("res", "=", res).where("key", "in", keys.slice(i, i + KEY_CHUNK))
      .where("start", ">=", range.from).where("start", "<", range.to)
      .groupBy("key")
      .execute();
    for (const row of rows) totals.push({ key: row.key, failures: Number(row.failures), userId: row.userId });
  }
  return totals;
}

async function groupedTotals(db: Db, kind: StatKind, res: StatResolution, range: BucketRange, limit: number): Promise<KeyTotal[]> {
  const rows = await db.selectFrom("stat_counts")
    .select(["key", sql<number>`SUM(failures)`.as("failures"), sql<string | null>`MAX(user_id)`.as("userId")])
    .where("kind", "=", kind).where("res", "=", res)
    .where("start", ">=", range.from).where("start", "<", range.to)
    .groupBy("key")
    .orderBy("failures", "desc").orderBy("key", "asc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ key: row.key, failures: Number(row.failures), userId: row.userId }));
}

/**
 * The `limit` keys with the most failures in the range, exactly, by the threshold algorithm:
 * read each coarse bucket's keys in descending order a batch at a time, total the new
 * candidates exactly, and stop once `limit` of them beat the sum of the last counts read
 * (no unread key can do better). Under an attack a few keys stand out and this reads a few
 * hundred rows whatever the volume; with no standouts it falls back to one grouped scan of the
 * counters.
 */
async function topKeys(db: Db, kind: StatKind, range: BucketRange, limit: number, search: TopSearch): Promise<KeyTotal[]> {
  const exact = exactResolution(range);
  const listMs = LIST_RESOLUTION[exact] * 1000;
  let open: number[] = [];
  for (let start = Math.floor(range.from / listMs) * listMs; start < range.to; start += listMs) open.push(start);
  const lastRead = new Map<number, number>();
  const totals = new Map<string, KeyTotal>();
  let offset = 0;
  let batch = search.firstBatch ?? FIRST_BATCH;
  for (let round = 0; round < (search.maxRounds ?? MAX_ROUNDS); round++) {
    if (open.length > 0) {
      const lists = open.map((start) => db.selectFrom((eb) => eb.selectFrom("stat_counts")
        .select(["start", "key", "failures"])
        .where("kind", "=", kind).where("res", "=", LIST_RESOLUTION[exact]).where("start", "=", start)
        .orderBy("failures", "desc").limit(batch).offset(offset)
        .as("l")).selectAll());
      const rows = await lists.slice(1).reduce((union, list) => union.unionAll(list), lists[0]!).execute();
      const read = new Map<number, number>();
      const fresh = new Set<string>();
      for (const row of rows) {
        const start = Number(row.start);
        read.set(start, (read.get(start) ?? 0) + 1);
        lastRead.set(start, Math.min(lastRead.get(start) ?? Infinity, Number(row.failures)));
        if (!totals.has(row.key)) fresh.add(row.key);
      }
      for (const start of open) if ((read.get(start) ?? 0) < batch) lastRead.set(start, 0);
      open = open.filter((start) => (read.get(start) ?? 0) === batch);
      for (const total of await exactTotals(db, kind, exact, range, [...fresh])) totals.set(total.key, total);
    }
    const threshold = [...lastRead.values()].reduce((sum, n) => sum + n, 0);
    const ranked = [...totals.values()].filter((t) => t.failures > 0).sort(byRank);
    if (open.length === 0 || ranked.filter((t) => t.failures > threshold).length >= limit) return ranked.slice(0, limit);
    offset += batch;
    batch *= 2;
  }
  return groupedTotals(db, kind, exact, range, limit);
}

/** Tuning of the top-10 search; tests shrink it to reach the fallback with little data. */
export interface TopSearch {
  /** Rows read from each bucket's list in the first round (doubling every round). */
  readonly firstBatch?: number;
  /** Rounds before falling back to one grouped scan of the counters. */
  readonly maxRounds?: number;
}

/** The e-mails with the most failed logins in the range (known users and unknown addresses). */
export async function topTargetedAccounts(db: Db, range: BucketRange, limit: number, search: TopSearch = {}): Promise<TargetedAccount[]> {
  return (await topKeys(db, "e", range, limit, search)).map((t) => ({ email: t.key, userId: t.userId, failures: t.failures }));
}

/** The client addresses with the most failed logins in the range. */
export async function topSourceIps(db: Db, range: BucketRange, limit: number, search: TopSearch = {}): Promise<SourceIp[]> {
  return (await topKeys(db, "i", range, limit, search)).map((t) => ({ ip: t.key, failures: t.failures }));
}
