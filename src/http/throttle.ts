import { Redis } from "ioredis";

/**
 * Counts one client's failed attempts per fixed minute. Implementations never throw for an
 * unreachable backend: the Redis one falls back to this process's own counts.
 */
export interface Throttle {
  /** Seconds until the client may try again, or 0 when it may try now. */
  retryAfter(key: string): Promise<number>;
  /** Counts one failed attempt (or one mail-sending request) of the client. */
  fail(key: string): Promise<void>;
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
  retryAfter: async () => 0,
  fail: async () => {},
  mode: () => "off",
  close: async () => {},
};

interface Counts {
  get(key: string, window: number): number;
  add(key: string, window: number): void;
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
    get(key, window) {
      turn(window);
      return counts.get(key) ?? 0;
    },
    add(key, window) {
      turn(window);
      counts.set(key, (counts.get(key) ?? 0) + 1);
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
  const redis = options.redisUrl === null ? null : new Redis(options.redisUrl, {
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

  async function shared(key: string, window: number): Promise<number | null> {
    if (redis === null || redis.status !== "ready") return null;
    try {
      const value = await redis.get(redisKey(key, window));
      return value === null ? 0 : Number(value);
    } catch (error) {
      down(error);
      return null;
    }
  }

  return {
    async retryAfter(key) {
      const t = now();
      const window = Math.floor(t / WINDOW_MS);
      const count = (await shared(key, window)) ?? local.get(key, window);
      return count >= limit ? secondsLeft(t, window) : 0;
    },
    async fail(key) {
      const window = Math.floor(now() / WINDOW_MS);
      local.add(key, window);
      if (redis === null || redis.status !== "ready") return;
      const name = redisKey(key, window);
      try {
        await redis.multi().incr(name).pexpire(name, 2 * WINDOW_MS).exec();
      } catch (error) {
        down(error);
      }
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
