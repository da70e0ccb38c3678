import { sql, type Kysely, type QueryCreator } from "kysely";
import { prepared } from "./prepared.ts";
import type { Schema } from "./schema.ts";

/**
 * Bucket lengths the counters are kept at, in seconds. Every chart bucket size of the stats
 * API (10 s … 1 d) is a multiple of one of them, so a chart bucket is an exact sum of counter
 * buckets; the coarser ones bound how many rows a long window reads.
 */
export const STAT_RESOLUTIONS = [10, 300, 3600, 86400] as const;
export type StatResolution = (typeof STAT_RESOLUTIONS)[number];

export type StatKind = "t" | "e" | "i";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * How long counter rows are read by some stats window (5 min … 30 d, see counterUnits and
 * bucketRange); null: as long as their events (DEADBOLT_EVENT_RETENTION). A window cuts its
 * range into the coarsest aligned buckets, so the finer rows are only read at its ends:
 * 10 s rows by windows up to 96 min (back 98 min at most), 5 min rows by windows of a day or
 * less (back 24.5 h), hourly rows by windows of 24 d or less (back 24.5 d: a window over 24 d
 * has day buckets, aligned at both ends, so it reads daily rows only). The hourly totals ('t',
 * 24 rows a day) stay for the charts; the hourly rows per e-mail and per address (one per
 * failing key and hour: millions a day during an attack) go after 31 days, a week more than
 * any window reads, against clock skew between instances.
 */
const PER_KEY_KEEP_MS: Readonly<Record<StatResolution, number | null>> = { 10: 3 * HOUR_MS, 300: 2 * DAY_MS, 3600: 31 * DAY_MS, 86400: null };

export const STAT_KEEP_MS: Readonly<Record<StatKind, Readonly<Record<StatResolution, number | null>>>> = {
  t: { ...PER_KEY_KEEP_MS, 3600: null },
  e: PER_KEY_KEEP_MS,
  i: PER_KEY_KEEP_MS,
};

/**
 * The rank index's predicate (migration 013: it holds no totals), written as a literal: SQLite
 * uses a partial index only for a query that repeats its WHERE term, parameters do not count.
 */
export const RANKED = sql<boolean>`${sql.ref("kind")} <> ${sql.lit("t")}`;

/** What an event adds to the counters; a subset of SecurityEvent, to keep this module leaf. */
export interface CountedEvent {
  readonly type: string;
  readonly at: number;
  readonly userId: string | null;
  readonly email: string | null;
  readonly ip: string | null;
}

export interface StatRow {
  kind: StatKind;
  res: number;
  key: string;
  start: number;
  failures: number;
  lockouts: number;
  user_id: string | null;
}

function maxId(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/** The counter increments of a batch of events, merged per row and in key order. */
export function statRowsOf(events: readonly CountedEvent[]): StatRow[] {
  const rows = new Map<string, StatRow>();
  const add = (kind: StatKind, key: string, at: number, failures: number, lockouts: number, userId: string | null): void => {
    for (const res of STAT_RESOLUTIONS) {
      const ms = res * 1000;
      const start = at - (((at % ms) + ms) % ms);
      const id = `${kind}\u0000${res}\u0000${key}\u0000${start}`;
      const row = rows.get(id);
      if (row) {
        row.failures += failures;
        row.lockouts += lockouts;
        row.user_id = maxId(row.user_id, userId);
      } else {
        rows.set(id, { kind, res, key, start, failures, lockouts, user_id: userId });
      }
    }
  };
  for (const event of events) {
    if (event.type === "login.failed") {
      add("t", "", event.at, 1, 0, null);
      if (event.email !== null) add("e", event.email, event.at, 1, 0, event.userId);
      if (event.ip !== null) add("i", event.ip, event.at, 1, 0, null);
    } else if (event.type === "account.locked") {
      add("t", "", event.at, 0, 1, null);
    }
  }
  // One order for every transaction, so two of them never wait on each other's rows in a cycle.
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** The statement that adds counter rows (from statRowsOf) to the stored counters. */
export function statUpsert(db: QueryCreator<Schema>, rows: readonly StatRow[]) {
  return db.insertInto("stat_counts").values([...rows])
    .onConflict((oc) => oc.columns(["kind", "res", "key", "start"]).doUpdateSet({
      // Qualified through sql.ref, so the library's table prefix reaches these names too.
      failures: sql`${sql.ref("stat_counts.failures")} + excluded.failures`,
      lockouts: sql`${sql.ref("stat_counts.lockouts")} + excluded.lockouts`,
      user_id: sql`CASE WHEN ${sql.ref("stat_counts.user_id")} IS NULL OR excluded.user_id > ${sql.ref("stat_counts.user_id")}
        THEN excluded.user_id ELSE ${sql.ref("stat_counts.user_id")} END`,
    }));
}

const upsert = prepared((db: Kysely<Schema>, rows: readonly StatRow[]) => statUpsert(db, rows));

/**
 * Adds the events to the counters; call in the transaction that inserts them, so a counter
 * never disagrees with the events.
 */
export async function countEvents(db: Kysely<Schema>, events: readonly CountedEvent[]): Promise<void> {
  const rows = statRowsOf(events);
  if (rows.length > 0) await upsert.execute(db, rows);
}
