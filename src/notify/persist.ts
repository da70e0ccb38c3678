import { setTimeout as sleepFor } from "node:timers/promises";
import type { Logger } from "../auth/context.ts";
import { isDatabaseUnavailable, renewNoticeLeases, type Database } from "../store/index.ts";

/** First pause before writing an outcome again after a database error; doubles up to the cap. */
export const PERSIST_RETRY_BASE_MS = 100;
/**
 * Short, so that a mail accepted by SMTP while the database was down is marked sent within
 * seconds of the database's return, long before the lease lets another dispatcher re-send it.
 */
export const PERSIST_RETRY_MAX_MS = 2_000;
/** How long a stopping dispatcher keeps trying to record what it already sent. */
export const STOP_GRACE_MS = 5_000;
const OTHER_ERROR_ATTEMPTS = 3;

export interface PersistOptions {
  readonly log: Logger;
  /** Real time, not the injected clock: the database comes back in wall-clock time. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly stopping: () => boolean;
}

/**
 * Runs a write that records an outcome (sent, failed, given back) until it succeeds: the mail
 * already left, or the row must go back to the queue, so giving up after one database error
 * would leave the row claimed for a whole lease and then send it again. Gives up only when the
 * dispatcher stops and STOP_GRACE_MS has passed (the lease then decides, and a re-send carries
 * the same Message-ID), or after a few tries of an error that is not an outage.
 */
export async function persist<T>(what: string, run: () => Promise<T>, options: PersistOptions): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  let delay = PERSIST_RETRY_BASE_MS;
  let waited = 0;
  let stopWaited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run();
      if (attempt > 1) options.log.warn({ attempts: attempt, waitedMs: waited }, `e-mail dispatcher: ${what} recorded after the database came back`);
      return result;
    } catch (error) {
      if (options.stopping() && stopWaited >= STOP_GRACE_MS) throw error;
      // A bug, not an outage: a few tries for a transient oddity, then the caller hears of it.
      if (!isDatabaseUnavailable(error) && attempt >= OTHER_ERROR_ATTEMPTS) throw error;
      if (attempt === 1) {
        options.log.warn({ err: error }, `e-mail dispatcher: could not record that ${what}; retrying until the database answers`);
      }
      await sleep(delay);
      waited += delay;
      if (options.stopping()) stopWaited += delay;
      delay = Math.min(PERSIST_RETRY_MAX_MS, delay * 2);
    }
  }
}

export interface LeaseHold {
  /** This row is settled (sent, failed or given back): stop renewing it. */
  settle(id: number): void;
  stop(): void;
}

/**
 * Keeps renewing the lease of every row of a claimed batch until it is settled, so that neither
 * a slow SMTP exchange nor the rows waiting behind it can outlive the lease and be sent again by
 * another dispatcher. A failed renewal is only logged: the next tick tries again.
 */
export function holdLeases(database: Database, ids: readonly number[], options: {
  readonly workerId: string; readonly leaseMs: number; readonly everyMs: number; readonly now: () => number; readonly log: Logger;
}): LeaseHold {
  const held = new Set(ids);
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing || held.size === 0) return;
    renewing = true;
    renewNoticeLeases(database.db, [...held], options.workerId, options.now() + options.leaseMs)
      .catch((error: unknown) => options.log.warn({ err: error }, "e-mail dispatcher: could not renew its lease; will retry"))
      .finally(() => { renewing = false; });
  }, options.everyMs);
  timer.unref();
  return {
    settle: (id) => held.delete(id),
    stop: () => clearInterval(timer),
  };
}
