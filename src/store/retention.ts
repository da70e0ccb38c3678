import type { Kysely } from "kysely";
import { dialectOfDb } from "./dialect.ts";
import type { Schema } from "./schema.ts";
import { RANKED, STAT_KEEP_MS, STAT_RESOLUTIONS, type StatKind, type StatResolution } from "./stat-counts.ts";

type Db = Kysely<Schema>;

export interface PruneOptions {
  readonly now: number;
  /** DEADBOLT_EVENT_RETENTION; 0 keeps events, tokens, sessions and mails forever. */
  readonly retentionMs: number;
  /** Rows per DELETE: small, so no statement holds the write lock long enough to slow a login. */
  readonly batchSize?: number;
  /** Awaited between two batches, so logins waiting for the database go first. */
  readonly pause?: () => Promise<void>;
}

export interface PruneCounts {
  readonly events: number;
  readonly statCounts: number;
  readonly sessions: number;
  readonly tokens: number;
  readonly mails: number;
}

/** The most rows one DELETE removes. */
export const PRUNE_BATCH = 500;
/**
 * How long one DELETE should hold the database. On SQLite it runs on the event loop, so a
 * login waits behind it: at a million users a batch of 500 events took about 80 ms (login p99
 * 104 ms while pruning, 35 ms idle). Batches shrink until they fit and grow back when quick.
 */
export const BATCH_TARGET_MS = 10;
const MIN_BATCH = 10;

/**
 * Runs `deleteBatch(limit)` until it deletes fewer than its limit, pausing in between. With
 * `adapt` (SQLite) the limit starts small and adapts to BATCH_TARGET_MS: halved after a slow
 * batch, doubled (up to `max`) after one that took under half of it. Without (PostgreSQL,
 * where a DELETE waits on a socket and the event loop goes on), every batch is `max`.
 */
export async function inBatches(
  max: number, pause: () => Promise<void>, deleteBatch: (limit: number) => Promise<bigint>,
  options: { readonly adapt?: boolean; readonly clock?: () => number } = {},
): Promise<number> {
  const adapt = options.adapt ?? true;
  const clock = options.clock ?? (() => performance.now());
  let total = 0;
  let limit = adapt ? Math.min(max, 50) : max;
  for (;;) {
    const started = clock();
    const deleted = Number(await deleteBatch(limit));
    const took = clock() - started;
    total += deleted;
    if (deleted < limit) return total;
    if (adapt && took > BATCH_TARGET_MS) limit = Math.max(Math.min(MIN_BATCH, max), Math.floor(limit / 2));
    else if (adapt && took < BATCH_TARGET_MS / 2) limit = Math.min(max, limit * 2);
    await pause();
  }
}

/** Deletes the `limit` oldest counter rows of (kind, res) starting before `before` (exported so tests can EXPLAIN it). */
export function statPruneBatch(db: Db, kind: StatKind, res: StatResolution, before: number, limit: number) {
  return db.deleteFrom("stat_counts")
    .where("kind", "=", kind).where("res", "=", res)
    .where((eb) => eb(eb.refTuple("key", "start"), "in", eb.selectFrom("stat_counts").select(["key", "start"])
      .where("kind", "=", kind).where("res", "=", res).where("start", "<", before)
      // Read in start order through an index: the key's for the totals, the rank index's else.
      .where((inner) => (kind === "t" ? inner("key", "=", "") : RANKED))
      .orderBy("start").limit(limit).$asTuple("key", "start")));
}

/**
 * Deletes what DEADBOLT_EVENT_RETENTION no longer keeps, in small batches: events older than
 * the retention and their counters (whose whole bucket is older), counters no stats window
 * reads any more (STAT_KEEP_MS: finer than an hour, and the hourly ones per e-mail or address
 * after 31 days), and sessions, used or expired tokens and sent mails older than the
 * retention. Safe to run from several processes.
 *
 * @example await pruneExpired(db, { now: Date.now(), retentionMs: 90 * 86_400_000 })
 */
export async function pruneExpired(db: Db, options: PruneOptions): Promise<PruneCounts> {
  const batch = options.batchSize ?? PRUNE_BATCH;
  const pause = options.pause ?? (async () => {});
  const keep = options.retentionMs > 0;
  const cutoff = options.now - options.retentionMs;
  const adapt = dialectOfDb(db) === "sqlite";
  const run = (deleteBatch: (limit: number) => Promise<bigint>): Promise<number> => inBatches(batch, pause, deleteBatch, { adapt });
  const deleted = async (query: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }): Promise<bigint> =>
    (await query.executeTakeFirst()).numDeletedRows;

  let statCounts = 0;
  for (const res of STAT_RESOLUTIONS) {
    for (const kind of ["t", "e", "i"] as const) {
      const read = STAT_KEEP_MS[kind][res];
      // A bucket goes when all of it is older than the retention, as its events do, or once no
      // stats window reads it.
      const limits = [read === null ? null : options.now - read, keep ? cutoff - res * 1000 + 1 : null].filter((n) => n !== null);
      if (limits.length === 0) continue;
      const before = Math.max(...limits);
      statCounts += await run((limit) => deleted(statPruneBatch(db, kind, res, before, limit)));
    }
  }
  if (!keep) return { events: 0, statCounts, sessions: 0, tokens: 0, mails: 0 };

  const events = await run((limit) => deleted(db.deleteFrom("events").where("id", "in", (eb) => eb.selectFrom("events")
    .select("id").where("at", "<", cutoff).orderBy("at").limit(limit))));
  const sessions = await run((limit) => deleted(db.deleteFrom("sessions").where("token_hash", "in", (eb) => eb.selectFrom("sessions")
    .select("token_hash").where("expires_at", "<", cutoff).limit(limit))));
  const tokens = await run((limit) => deleted(db.deleteFrom("tokens").where("token_hash", "in", (eb) => eb.selectFrom("tokens")
    .select("token_hash").where("expires_at", "<", cutoff).limit(limit)))) +
    await run((limit) => deleted(db.deleteFrom("tokens").where("token_hash", "in", (eb) => eb.selectFrom("tokens")
      .select("token_hash").where("used_at", "is not", null).where("used_at", "<", cutoff).limit(limit))));
  const mails = await run((limit) => deleted(db.deleteFrom("outbox").where("id", "in", (eb) => eb.selectFrom("outbox")
    .select("id").where("sent_at", "is not", null).where("sent_at", "<", cutoff).limit(limit))));
  return { events, statCounts, sessions, tokens, mails };
}
