import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "./auth/index.ts";
import { pruneExpired, type Database } from "./store/index.ts";

/** How often a server prunes; every instance may, batches make that harmless. */
export const PRUNE_INTERVAL_MS = 10 * 60_000;
const FIRST_PRUNE_MS = 30_000;
/** Between two batches, so logins queued on the database (SQLite's one connection) go first. */
export const BATCH_PAUSE_MS = 10;

export interface PrunerOptions {
  readonly database: Database;
  readonly now: () => number;
  readonly retentionMs: number;
  readonly log: Logger;
}

/**
 * Applies DEADBOLT_EVENT_RETENTION in the background: soon after start, then every ten minutes.
 * A failed run (database down) is logged and tried at the next tick.
 */
export function startPruner(options: PrunerOptions): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const run = async (): Promise<void> => {
    try {
      const counts = await pruneExpired(options.database.db, {
        now: options.now(), retentionMs: options.retentionMs,
        // Stopping ends a run between two batches.
        pause: async () => {
          if (stopped) throw new Error("pruner stopped");
          await sleep(BATCH_PAUSE_MS);
        },
      });
      if (Object.values(counts).some((n) => n > 0)) options.log.info({ pruned: counts }, "pruned what DEADBOLT_EVENT_RETENTION no longer keeps");
    } catch (error) {
      if (stopped) return;
      options.log.warn({ err: error }, "pruning old events failed; will try again");
    }
  };
  const tick = (): void => {
    if (!stopped) running = run();
  };
  const first = setTimeout(tick, FIRST_PRUNE_MS);
  const every = setInterval(tick, PRUNE_INTERVAL_MS);
  first.unref();
  every.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
