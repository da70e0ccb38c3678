import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

export interface Throttle {
  /** Seconds until the client may try again, or 0 when it may try now. */
  retryAfter(key: string): Promise<number>;
  /** Counts one failed attempt of the client. */
  fail(key: string): Promise<void>;
  close(): Promise<void>;
}

const UNLIMITED: Throttle = {
  retryAfter: async () => 0,
  fail: async () => {},
  close: async () => {},
};

/**
 * Per-client throttling of failed attempts (memory, or Redis when several instances must
 * share counts). This slows one client down; the per-account lockout is what stops guessing.
 */
export function createThrottle(options: { perMinute: number; redisUrl: string | null }): Throttle {
  if (options.perMinute === 0) return UNLIMITED;
  const redis = options.redisUrl === null ? null : new Redis(options.redisUrl, { enableOfflineQueue: false, lazyConnect: false });
  redis?.on("error", () => {});
  const limiter: RateLimiterAbstract = redis === null
    ? new RateLimiterMemory({ points: options.perMinute, duration: 60, keyPrefix: "deadbolt_fail" })
    : new RateLimiterRedis({
        storeClient: redis, points: options.perMinute, duration: 60, keyPrefix: "deadbolt_fail",
        // If Redis is down, throttle per process rather than not at all.
        insuranceLimiter: new RateLimiterMemory({ points: options.perMinute, duration: 60 }),
      });
  return {
    async retryAfter(key) {
      const state = await limiter.get(key);
      if (state === null || state.consumedPoints < options.perMinute) return 0;
      return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    },
    async fail(key) {
      try {
        await limiter.consume(key);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
      }
    },
    async close() {
      redis?.disconnect();
    },
  };
}
