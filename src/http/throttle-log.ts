import type { Client } from "../auth/index.ts";
import { WINDOW_MS } from "./throttle.ts";

/** What one `client.throttled` event reports: a client's refused requests over one minute. */
export interface ThrottledSummary {
  /** The throttle key: the address, or the IPv6 /64. */
  readonly key: string;
  /** The last refused request's client (address and user agent as seen). */
  readonly client: Client;
  readonly refused: number;
  readonly since: number;
  readonly until: number;
}

export interface ThrottleLog {
  /** Counts one refused request; may report minutes that have ended. */
  refused(key: string, client: Client): Promise<void>;
  /** Reports every minute that has ended (all of them with `{ all: true }`, at shutdown). */
  flush(options?: { all?: boolean }): Promise<void>;
}

interface Open {
  client: Client;
  refused: number;
  readonly since: number;
}

/**
 * Aggregates refusals so that a flood writes one `client.throttled` event per client per
 * minute (with the count) instead of one per request: a flood must not become a flood of
 * database writes. A client's minute starts with its first refusal.
 */
export function createThrottleLog(options: {
  readonly now: () => number;
  readonly report: (summaries: readonly ThrottledSummary[]) => Promise<void>;
}): ThrottleLog {
  const open = new Map<string, Open>();
  let nextDue = Infinity;

  async function flush(flushOptions: { all?: boolean } = {}): Promise<void> {
    const t = options.now();
    if (!flushOptions.all && t < nextDue) return;
    const due: ThrottledSummary[] = [];
    nextDue = Infinity;
    for (const [key, entry] of open) {
      if (flushOptions.all || t >= entry.since + WINDOW_MS) {
        due.push({ key, client: entry.client, refused: entry.refused, since: entry.since, until: Math.min(t, entry.since + WINDOW_MS) });
        open.delete(key);
      } else {
        nextDue = Math.min(nextDue, entry.since + WINDOW_MS);
      }
    }
    if (due.length > 0) await options.report(due);
  }

  return {
    async refused(key, client) {
      await flush();
      const entry = open.get(key);
      if (entry) {
        entry.refused += 1;
        entry.client = client;
        return;
      }
      const since = options.now();
      open.set(key, { client, refused: 1, since });
      nextDue = Math.min(nextDue, since + WINDOW_MS);
    },
    flush,
  };
}
