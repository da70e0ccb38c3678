import { sql, type Kysely, type SelectQueryBuilder } from "kysely";
import { dialectOfDb } from "./dialect.ts";
import type { Schema } from "./schema.ts";
import { RANKED, STAT_RESOLUTIONS, type StatKind, type StatResolution } from "./stat-counts.ts";

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

/** The coarsest counter resolution a chart bucket is an exact sum of (the totals the chart reads). */
export function exactResolution(range: BucketRange): StatResolution {
  const res = [...STAT_RESOLUTIONS].reverse().find((r) => range.bucketMs % (r * 1000) === 0 && range.from % (r * 1000) === 0);
  if (res === undefined) throw new Error(`stats buckets must be whole multiples of 10 s, not ${range.bucketMs} ms`);
  return res;
}

/**
 * Failed logins and locks per bucket; buckets without events are absent. Read from the
 * counters (at most a few hundred rows for any window), never from the events.
 */
export async function countEventsByBucket(db: Db, range: BucketRange): Promise<BucketCounts[]> {
  const rows = await bucketTotalsQuery(db, range).execute();
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

/** The totals' counter rows of the range (exported so tests can EXPLAIN it). */
export function bucketTotalsQuery(db: Db, range: BucketRange) {
  return db.selectFrom("stat_counts")
    .select(["start", "failures", "lockouts"])
    .where("kind", "=", "t").where("key", "=", "").where("res", "=", exactResolution(range))
    .where("start", ">=", range.from).where("start", "<", range.to);
}

/** The count of users locked at `now` and not disabled (exported so tests can EXPLAIN it). */
export function lockedNowCount(db: Db, now: number): SelectQueryBuilder<Schema, "users", { n: number }> {
  return db.selectFrom("users").select(sql<number>`COUNT(*)`.as("n"))
    .where("locked_until", "is not", null).where("disabled_reason", "is", null).where("locked_until", ">", now);
}

/** Delta rows of user_tally (PostgreSQL) beyond which a read folds them into one. */
const TALLY_FOLD_ROWS = 100;

/** How many users exist, are locked at `now` (and not disabled), and are disabled. */
export async function countUsers(db: Db, now: number): Promise<UserCounts> {
  // The total from the triggers' tally; the other two count ranges of indexes holding only
  // users locked and not disabled (users_locked_now, from now on) or disabled (users_disabled),
  // so neither reads a user's row.
  const [total, locked, disabled] = await Promise.all([
    db.selectFrom("user_tally").select([sql<number>`COALESCE(SUM(n), 0)`.as("n"), sql<number>`COUNT(*)`.as("rows")]).executeTakeFirstOrThrow(),
    lockedNowCount(db, now).executeTakeFirstOrThrow(),
    db.selectFrom("users").select(sql<number>`COUNT(*)`.as("n"))
      .where("disabled_reason", "is not", null).executeTakeFirstOrThrow(),
  ]);
  if (Number(total.rows) > TALLY_FOLD_ROWS && dialectOfDb(db) === "postgres") await foldTally(db);
  return { totalUsers: Number(total.n), lockedNow: Number(locked.n), disabledNow: Number(disabled.n) };
}

/**
 * Replaces PostgreSQL's delta rows by their sum in one statement; a concurrent fold or insert
 * cannot lose a delta (a row is summed by the statement that deleted it).
 */
async function foldTally(db: Db): Promise<void> {
  await sql`WITH gone AS (DELETE FROM user_tally RETURNING n) INSERT INTO user_tally (n) SELECT COALESCE(SUM(n), 0) FROM gone`.execute(db);
}

interface KeyTotal {
  readonly key: string;
  readonly failures: number;
  readonly userId: string | null;
}

/** One counter bucket the range is cut into. */
export interface Unit {
  readonly res: StatResolution;
  readonly start: number;
}

/** Rows read from each bucket's list, in descending order of failures (the rank index). */
const LIST_LENGTH = 64;
/** Keys whose exact totals are read: the best by upper bound. */
const CANDIDATES = 40;

/**
 * The range as the fewest counter buckets: the coarsest resolution that is aligned and fits at
 * every step, so any window from 5 min to 30 d is at most about 50 buckets.
 */
export function counterUnits(range: BucketRange): Unit[] {
  exactResolution(range);
  const coarsest = [...STAT_RESOLUTIONS].reverse();
  const units: Unit[] = [];
  for (let start = range.from; start < range.to;) {
    const res = coarsest.find((r) => start % (r * 1000) === 0 && start + r * 1000 <= range.to) ?? STAT_RESOLUTIONS[0];
    units.push({ res, start });
    start += res * 1000;
  }
  return units;
}

function byRank(a: KeyTotal, b: KeyTotal): number {
  return b.failures - a.failures || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Per resolution, the runs of consecutive buckets, as [from, to) of their starts. */
function unitRuns(units: readonly Unit[]): Array<{ res: StatResolution; from: number; to: number }> {
  const runs: Array<{ res: StatResolution; from: number; to: number }> = [];
  for (const unit of units) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.res === unit.res && last.to === unit.start) last.to = unit.start + unit.res * 1000;
    else runs.push({ res: unit.res, from: unit.start, to: unit.start + unit.res * 1000 });
  }
  return runs;
}

/** The keys' exact totals over the units: a few index ranges per key, whatever the volume. */
async function exactTotals(db: Db, kind: StatKind, units: readonly Unit[], keys: readonly string[]): Promise<KeyTotal[]> {
  if (keys.length === 0) return [];
  const rows = await exactTotalsQuery(db, kind, units, keys).execute();
  return rows.map((row) => ({ key: row.key, failures: Number(row.failures), userId: row.userId }));
}

/** The statement of exactTotals (exported so tests can EXPLAIN it). */
export function exactTotalsQuery(db: Db, kind: StatKind, units: readonly Unit[], keys: readonly string[]) {
  const runs = unitRuns(units);
  return db.selectFrom("stat_counts")
    .select(["key", sql<number>`SUM(failures)`.as("failures"), sql<string | null>`MAX(user_id)`.as("userId")])
    .where("kind", "=", kind).where("key", "in", keys)
    .where((eb) => eb.or(runs.map((run) => eb.and([eb("res", "=", run.res), eb("start", ">=", run.from), eb("start", "<", run.to)]))))
    .groupBy("key");
}

/** A counter bucket's `length` keys with the most failures, in that order (exported so tests can EXPLAIN it). */
export function bucketList(db: Db, kind: StatKind, unit: Unit, length: number) {
  return db.selectFrom("stat_counts")
    .select(["start", "key", "failures"])
    .where("kind", "=", kind).where("res", "=", unit.res).where("start", "=", unit.start)
    .where(RANKED)
    .orderBy("failures", "desc").limit(length);
}

/** The `limit` keys with the most failures in the range, and whether that list is exact. */
export interface TopResult {
  readonly top: readonly KeyTotal[];
  /** False when the tail is a tie among small counts that the bounded lists cannot settle. */
  readonly exact: boolean;
}

/**
 * The `limit` keys with the most failures, reading a bounded amount whatever the volume: the
 * first LIST_LENGTH keys of every counter bucket the range is cut into (the rank index keeps
 * them in order, in the transaction that counts the event), then the exact totals of the
 * CANDIDATES keys with the best upper bound. A key missing from a full list has at most that
 * list's last count there, which bounds every key not read. The counts returned are always
 * exact; the ranking is exact when the leaders beat every bound (an attack's targets always
 * do), else its tail is the best of near-ties.
 */
export async function topKeys(db: Db, kind: StatKind, range: BucketRange, limit: number, search: TopSearch = {}): Promise<TopResult> {
  const units = counterUnits(range);
  const length = search.listLength ?? LIST_LENGTH;
  const lists = units.map((unit) => db.selectFrom(() => bucketList(db, kind, unit, length).as("l"))
    .select(["l.start", "l.key", "l.failures"]).select(sql.lit(unit.res).as("res")));
  const rows = await lists.slice(1).reduce((union, list) => union.unionAll(list), lists[0]!).execute();

  const seen = new Map<string, { partial: number; in: Set<number> }>();
  const floors = new Map<number, number>();
  const lengths = new Map<number, number>();
  for (const row of rows) {
    const start = Number(row.start);
    const failures = Number(row.failures);
    const entry = seen.get(row.key) ?? { partial: 0, in: new Set<number>() };
    entry.partial += failures;
    entry.in.add(start);
    seen.set(row.key, entry);
    lengths.set(start, (lengths.get(start) ?? 0) + 1);
    floors.set(start, Math.min(floors.get(start) ?? Infinity, failures));
  }
  // A list shorter than asked holds every key of its bucket: a key absent there has 0.
  for (const start of [...floors.keys()]) if ((lengths.get(start) ?? 0) < length) floors.set(start, 0);
  const unseen = [...floors.values()].reduce((sum, n) => sum + n, 0);
  const bounds = [...seen.entries()].map(([key, entry]) => {
    let bound = entry.partial;
    for (const [start, floor] of floors) if (!entry.in.has(start)) bound += floor;
    return { key, bound, partial: entry.partial };
  }).sort((a, b) => b.bound - a.bound || b.partial - a.partial || (a.key < b.key ? -1 : 1));

  const count = search.candidates ?? Math.max(CANDIDATES, limit);
  const candidates = bounds.slice(0, count);
  const ranked = (await exactTotals(db, kind, units, candidates.map((c) => c.key))).filter((t) => t.failures > 0).sort(byRank);
  const top = ranked.slice(0, limit);
  // Exact when nothing left out can reach the last entry (or the list is short because fewer keys failed).
  const outside = Math.max(unseen, bounds[count]?.bound ?? 0);
  const last = top[top.length - 1]?.failures ?? 0;
  const exact = outside === 0 || (top.length === limit && last > outside);
  return { top, exact };
}

/** Tuning of the top-10 search; tests shrink it to reach the bounds with little data. */
export interface TopSearch {
  /** Rows read from each counter bucket's list. */
  readonly listLength?: number;
  /** Keys whose exact totals are read. */
  readonly candidates?: number;
}

/** The e-mails with the most failed logins in the range (known users and unknown addresses). */
export async function topTargetedAccounts(db: Db, range: BucketRange, limit: number, search: TopSearch = {}): Promise<TargetedAccount[]> {
  return (await topKeys(db, "e", range, limit, search)).top.map((t) => ({ email: t.key, userId: t.userId, failures: t.failures }));
}

/** The client addresses with the most failed logins in the range. */
export async function topSourceIps(db: Db, range: BucketRange, limit: number, search: TopSearch = {}): Promise<SourceIp[]> {
  return (await topKeys(db, "i", range, limit, search)).top.map((t) => ({ ip: t.key, failures: t.failures }));
}
