import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AuthContext } from "../../auth/index.ts";
import { parseDuration } from "../../duration.ts";
import {
  countEventsByBucket, countUsers, topSourceIps, topTargetedAccounts, type BucketRange,
} from "../../store/index.ts";
import { requireAdmin } from "../admin-guard.ts";
import { sendError } from "../errors.ts";
import { ErrorSchema } from "../schemas.ts";
import { isoTime } from "../../time.ts";

export interface AdminStatsRouteDeps {
  readonly auth: AuthContext;
}

const MINUTE_MS = 60_000;
export const STATS_WINDOW_MIN_MS = 5 * MINUTE_MS;
export const STATS_WINDOW_MAX_MS = 30 * 24 * 60 * MINUTE_MS;
const MAX_BUCKETS = 48;
const DEFAULT_WINDOW = "24h";
const TOP_LIMIT = 10;
/** Bucket sizes a chart axis reads well with, in seconds. */
const BUCKET_SECONDS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400] as const;

/**
 * The buckets covering `[now - windowMs, now]`: the smallest round bucket size giving at most
 * 48 buckets for the window, aligned to multiples of that size so a refresh does not shift
 * the chart. `from` is the start of the bucket holding `now - windowMs` and the last bucket
 * holds `now`, so there is one bucket more than the window divides into.
 *
 * @example bucketRange(24 * 3_600_000, now) // 49 buckets of 30 minutes
 */
export function bucketRange(windowMs: number, now: number): BucketRange & { readonly count: number } {
  const seconds = BUCKET_SECONDS.find((size) => windowMs / (size * 1000) <= MAX_BUCKETS) ?? 86_400;
  const bucketMs = seconds * 1000;
  const from = Math.floor((now - windowMs) / bucketMs) * bucketMs;
  const to = (Math.floor(now / bucketMs) + 1) * bucketMs;
  return { from, to, bucketMs, count: (to - from) / bucketMs };
}

const Count = Type.Integer({ minimum: 0 });
const StatsSchema = Type.Object({
  window: Type.String(),
  from: Type.String({ description: "Start of the first bucket, ISO 8601 UTC" }),
  to: Type.String({ description: "Now, ISO 8601 UTC" }),
  bucketSeconds: Type.Integer(),
  buckets: Type.Array(Type.Object({ start: Type.String(), failures: Count, lockouts: Count })),
  lockedNow: Count,
  disabledNow: Count,
  totalUsers: Count,
  topTargetedAccounts: Type.Array(Type.Object({
    email: Type.String(), userId: Type.Union([Type.String(), Type.Null()]), failures: Count,
  })),
  topSourceIps: Type.Array(Type.Object({ ip: Type.String(), failures: Count })),
});

export async function adminStatsRoutes(app: FastifyInstance, deps: AdminStatsRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));

  api.get("/api/admin/stats", {
    schema: {
      summary: "Failed logins and lockouts per time bucket, locked and disabled counts, top targets and sources",
      tags: ["admin"],
      security: [{ bearer: [] }],
      querystring: Type.Object({
        window: Type.Optional(Type.String({ default: DEFAULT_WINDOW, maxLength: 20, description: "From 5m to 30d, e.g. 1h, 24h, 7d" })),
      }),
      response: { 200: StatsSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (request, reply) => {
    const window = (request.query.window ?? DEFAULT_WINDOW).trim();
    const windowMs = parseDuration(window);
    if (windowMs === null || windowMs < STATS_WINDOW_MIN_MS || windowMs > STATS_WINDOW_MAX_MS) {
      return sendError(reply, "invalid_request", "Invalid querystring: window must be a duration from 5m to 30d, such as 1h, 24h or 7d");
    }
    const now = auth.now();
    const range = bucketRange(windowMs, now);
    const db = auth.database.db;
    const [counted, users, targeted, sources] = await Promise.all([
      countEventsByBucket(db, range), countUsers(db, now),
      topTargetedAccounts(db, range, TOP_LIMIT), topSourceIps(db, range, TOP_LIMIT),
    ]);
    const byIndex = new Map(counted.map((bucket) => [bucket.index, bucket]));
    const buckets = Array.from({ length: range.count }, (_, index) => ({
      start: isoTime(range.from + index * range.bucketMs),
      failures: byIndex.get(index)?.failures ?? 0,
      lockouts: byIndex.get(index)?.lockouts ?? 0,
    }));
    return {
      window,
      from: isoTime(range.from),
      to: isoTime(now),
      bucketSeconds: range.bucketMs / 1000,
      buckets,
      ...users,
      topTargetedAccounts: targeted,
      topSourceIps: sources,
    };
  });
}
