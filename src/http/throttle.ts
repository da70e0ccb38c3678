import { createRequire } from "node:module";
import type { Redis as RedisClient } from "ioredis";

/** ioredis (40 modules) is loaded only when DEADBOLT_REDIS_URL asks for it. */
function loadRedis(): typeof RedisClient {
  return (createRequire(import.meta.url)("ioredis") as { Redis: typeof RedisClient }).Redis;
}

/**
 * Counts one client's failed attempts per fixed minute. Implementations never throw for an
 * unreachable backend: the Redis one falls back to this process's own counts.
 */
export interface Throttle {
  /**
   * Counts one attempt of the client as it starts, and says whether it may go ahead: 0, or the
   * seconds until it may try again. Counting at the start (not when the answer is known) bounds
   * how many attempts one client can have in flight, however slow the answers are.
   */
  take(key: string): Promise<{ readonly wait: number; readonly window: number }>;
  /** Gives back a point taken in `window` for an attempt that turned out not to fail. */
  refund(key: string, window: number): Promise<void>;
  /** `off`, `memory` (this process), `shared` (Redis answers) or `per_process` (Redis is down: own counts). */
  mode(): "off" | "memory" | "shared" | "per_process";
  close(): Promise<void>;
}

export interface ThrottleOptions {
  /** DEADBOLT_THROTTLE_PER_MINUTE; 0 = no throttling. */
  readonly perMinute: number;
  /** DEADBOLT_REDIS_URL: counts shared by every instance; null = this process only. */
  readonly redisUrl: string | null;
  readonly now?: () => number;
  /** Told once each time Redis stops answering (then again after it has recovered). */
  readonly onRedisDown?: (error: Error) => void;
}

export const WINDOW_MS = 60_000;
/** A Redis answer slower than this counts as Redis being down: a 429 must stay cheap. */
const REDIS_TIMEOUT_MS = 250;

const UNLIMITED: Throttle = {
  take: async () => ({ wait: 0, window: 0 }),
  refund: async () => {},
  mode: () => "off",
  close: async () => {},
};

interface Counts {
  /** Adds `delta` in `window` (ignored for a window that has passed); returns the new count. */
  add(key: string, window: number, delta: number): number;
}

/** Counts of the current window only; older windows are dropped when the window turns. */
function memoryCounts(): Counts {
  let current = -1;
  let counts = new Map<string, number>();
  const turn = (window: number): void => {
    if (window !== current) {
      current = window;
      counts = new Map();
    }
  };
  return {
    add(key, window, delta) {
      if (window < current) return 0;
      turn(window);
      const count = (counts.get(key) ?? 0) + delta;
      counts.set(key, count);
      return count;
    },
  };
}

function secondsLeft(now: number, window: number): number {
  return Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
}

/**
 * Per-client throttling (SPEC "Per-client throttling"): at most `perMinute` counted requests
 * per client key and fixed minute. In memory by default; with Redis, the counts are shared by
 * every instance, and this process keeps its own counts beside them, so that when Redis is
 * down it goes on throttling per process: neither open (no limit) nor closed (everyone 429).
 *
 * @example const throttle = createThrottle({ perMinute: 600, redisUrl: null });
 */
export function createThrottle(options: ThrottleOptions): Throttle {
  if (options.perMinute === 0) return UNLIMITED;
  const now = options.now ?? Date.now;
  const limit = options.perMinute;
  const local = memoryCounts();
  const redis = options.redisUrl === null ? null : new (loadRedis())(options.redisUrl, {
    enableOfflineQueue: false, commandTimeout: REDIS_TIMEOUT_MS, maxRetriesPerRequest: 0,
  });
  let healthy = true;
  const down = (error: unknown): void => {
    if (healthy) options.onRedisDown?.(error instanceof Error ? error : new Error(String(error)));
    healthy = false;
  };
  redis?.on("error", down);
  redis?.on("ready", () => { healthy = true; });
  const redisKey = (key: string, window: number): string => `deadbolt:throttle:${window}:${key}`;

  /** The shared count after adding `delta`, or null when Redis cannot answer now. */
  async function shared(key: string, window: number, delta: number): Promise<number | null> {
    if (redis === null || redis.status !== "ready") return null;
    const name = redisKey(key, window);
    try {
      const replies = await redis.multi().incrby(name, delta).pexpire(name, 2 * WINDOW_MS).exec();
      const count = replies?.[0]?.[1];
      return typeof count === "number" ? count : null;
    } catch (error) {
      down(error);
      return null;
    }
  }

  return {
    async take(key) {
      const t = now();
      const window = Math.floor(t / WINDOW_MS);
      // This process's own count always moves too, so an outage of Redis leaves it throttling.
      const own = local.add(key, window, 1);
      const count = (await shared(key, window, 1)) ?? own;
      return { wait: count > limit ? secondsLeft(t, window) : 0, window };
    },
    async refund(key, window) {
      if (window < Math.floor(now() / WINDOW_MS)) return;
      local.add(key, window, -1);
      await shared(key, window, -1);
    },
    mode() {
      if (redis === null) return "memory";
      return redis.status === "ready" && healthy ? "shared" : "per_process";
    },
    async close() {
      redis?.disconnect();
    },
  };
}
