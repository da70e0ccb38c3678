import type { Kysely } from "kysely";
import type { Schema } from "./schema.ts";
import { STAT_KEEP_MS, STAT_RESOLUTIONS } from "./stat-counts.ts";

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

export const PRUNE_BATCH = 500;

/** Runs `deleteBatch` until it deletes fewer than a batch, pausing in between. */
async function inBatches(batch: number, pause: () => Promise<void>, deleteBatch: () => Promise<bigint>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = Number(await deleteBatch());
    total += deleted;
    if (deleted < batch) return total;
    await pause();
  }
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
  const run = (deleteBatch: () => Promise<bigint>): Promise<number> => inBatches(batch, pause, deleteBatch);
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
      statCounts += await run(() => deleted(db.deleteFrom("stat_counts")
        .where("kind", "=", kind).where("res", "=", res)
        .where((eb) => eb(eb.refTuple("key", "start"), "in", eb.selectFrom("stat_counts").select(["key", "start"])
          .where("kind", "=", kind).where("res", "=", res).where("start", "<", before)
          .orderBy("start").limit(batch).$asTuple("key", "start")))));
    }
  }
  if (!keep) return { events: 0, statCounts, sessions: 0, tokens: 0, mails: 0 };

  const events = await run(() => deleted(db.deleteFrom("events").where("id", "in", (eb) => eb.selectFrom("events")
    .select("id").where("at", "<", cutoff).orderBy("at").limit(batch))));
  const sessions = await run(() => deleted(db.deleteFrom("sessions").where("token_hash", "in", (eb) => eb.selectFrom("sessions")
    .select("token_hash").where("expires_at", "<", cutoff).limit(batch))));
  const tokens = await run(() => deleted(db.deleteFrom("tokens").where("token_hash", "in", (eb) => eb.selectFrom("tokens")
    .select("token_hash").where("expires_at", "<", cutoff).limit(batch)))) +
    await run(() => deleted(db.deleteFrom("tokens").where("token_hash", "in", (eb) => eb.selectFrom("tokens")
      .select("token_hash").where("used_at", "is not", null).where("used_at", "<", cutoff).limit(batch))));
  const mails = await run(() => deleted(db.deleteFrom("outbox").where("id", "in", (eb) => eb.selectFrom("outbox")
    .select("id").where("sent_at", "is not", null).where("sent_at", "<", cutoff).limit(batch))));
  return { events, statCounts, sessions, tokens, mails };
}
