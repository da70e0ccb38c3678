import { hostname } from "node:os";
import {
  forgetSilentInstances, heartbeat, liveInstances, removeInstance, type Database, type InstanceRecord,
} from "../store/index.ts";
import type { Logger } from "./context.ts";

/** How often a process proves it is alive. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** A process silent for this long is dead: its verification slots are reclaimed. */
export const INSTANCE_TTL_MS = 5_000;
/**
 * A verification starts only this soon after the last heartbeat was sent, which leaves
 * INSTANCE_TTL_MS − VERIFY_START_MS for it to finish before anyone may presume us dead and
 * reclaim its slot; so a frozen process never lets a surplus verification run.
 */
export const VERIFY_START_MS = 2_500;
/** An owner seen alive is believed alive this long without asking again (bounds polling). */
const ALIVE_CACHE_MS = 1_000;
/** A slot release that failed (database down) is retried until it is this old. */
const RETRY_FOR_MS = 60_000;
const MAX_RETRIES = 10_000;

/** This process as an owner of verification slots (SPEC lockout rule 8 across processes). */
export interface Instance {
  readonly id: string;
  /** Writes the first heartbeat; throws when the database cannot be written. */
  start(): Promise<void>;
  /** True when this process's heartbeat is fresh enough to start a verification now. */
  isFresh(): boolean;
  /** Makes the heartbeat fresh (one write if it is not); false when the database is unreachable. */
  refresh(): Promise<boolean>;
  /** The owners among `owners` that stopped heartbeating. */
  deadAmong(owners: readonly string[]): Promise<string[]>;
  /** Retries `task` after later heartbeats until it succeeds (a slot release that failed). */
  retryLater(task: () => Promise<void>): void;
  /** Stops heartbeating and deletes this instance's row. */
  stop(): Promise<void>;
}

export interface InstanceOptions {
  readonly id: string;
  readonly log: Logger;
  /** Monotonic milliseconds (performance.now); injected for tests. */
  readonly monotonic?: () => number;
  /** Wall clock for the row's started_at. */
  readonly now: () => number;
}

interface Retry {
  readonly task: () => Promise<void>;
  readonly since: number;
}

/**
 * This process's row in `instances` and its heartbeat, so that the slots it holds are
 * reclaimed within INSTANCE_TTL_MS of its death instead of after their 30 s expiry. Nothing
 * is written until `start()` or the first `refresh()` (the library creates it before its
 * tables are migrated).
 */
export function createInstance(database: Database, options: InstanceOptions): Instance {
  const monotonic = options.monotonic ?? (() => performance.now());
  const record: InstanceRecord = { id: options.id, host: hostname(), pid: process.pid, startedAt: options.now() };
  const aliveSeen = new Map<string, number>();
  const asking = new Map<string, Promise<string[]>>();
  let lastBeat = Number.NEGATIVE_INFINITY;
  let beating: Promise<boolean> | null = null;
  let retries: Retry[] = [];
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const runRetries = async (): Promise<void> => {
    const due = retries;
    retries = [];
    for (const retry of due) {
      try {
        await retry.task();
      } catch {
        if (monotonic() - retry.since < RETRY_FOR_MS) retries.push(retry);
      }
    }
  };

  const tick = async (): Promise<void> => {
    if ((await beat()) && retries.length > 0) await runRetries();
  };

  /** One heartbeat write on the background connection; concurrent callers share it. */
  async function write(): Promise<void> {
    const sent = monotonic();
    await heartbeat(database.background, database.dialect, record);
    lastBeat = sent;
    if (timer === null && !stopped) {
      timer = setInterval(() => void tick(), HEARTBEAT_INTERVAL_MS);
      timer.unref();
      void forgetSilentInstances(database.background, database.dialect).catch(() => {});
    }
  }

  function beat(): Promise<boolean> {
    beating ??= write().then(() => true, () => false).finally(() => {
      beating = null;
    });
    return beating;
  }

  return {
    id: record.id,
    start: write,
    isFresh: () => monotonic() - lastBeat < VERIFY_START_MS,
    async refresh() {
      if (monotonic() - lastBeat < VERIFY_START_MS) return true;
      return beat();
    },
    async deadAmong(owners) {
      const now = monotonic();
      const unknown = owners.filter((owner) => owner !== record.id && !((aliveSeen.get(owner) ?? -Infinity) > now - ALIVE_CACHE_MS));
      if (unknown.length === 0) return [];
      // Many attempts wait at once under a flood: one question to the database answers them all.
      const key = [...unknown].sort().join(" ");
      let asked = asking.get(key);
      if (asked === undefined) {
        asked = liveInstances(database.db, database.dialect, unknown, INSTANCE_TTL_MS).finally(() => asking.delete(key));
        asking.set(key, asked);
      }
      const alive = new Set(await asked);
      if (aliveSeen.size > 1_000) aliveSeen.clear();
      for (const owner of alive) aliveSeen.set(owner, now);
      return unknown.filter((owner) => !alive.has(owner));
    },
    retryLater(task) {
      if (retries.length < MAX_RETRIES) retries.push({ task, since: monotonic() });
      else options.log.warn({}, "too many slot releases waiting for the database; the rest expire on their own");
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== null) clearInterval(timer);
      await beating;
      if (lastBeat === Number.NEGATIVE_INFINITY) return;
      await runRetries().catch(() => {});
      await removeInstance(database.background, record.id).catch(() => {});
    },
  };
}
