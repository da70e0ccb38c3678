import { sql, type Kysely } from "kysely";
import type { Schema } from "./schema.ts";

/** A time range cut into equal buckets aligned to multiples of `bucketMs` since the epoch. */
export interface BucketRange {
  /** Start of the first bucket (inclusive), epoch ms. */
  readonly from: number;
  /** End of the last bucket (exclusive), epoch ms. */
  readonly to: number;
  readonly bucketMs: number;
}

export interface BucketCounts {
  /** Bucket index from `range.from`. */
  readonly index: number;
  readonly failures: number;
  readonly lockouts: number;
}

export interface UserCounts {
  readonly totalUsers: number;
  readonly lockedNow: number;
  readonly disabledNow: number;
}

export interface TargetedAccount {
  readonly email: string;
  readonly userId: string | null;
  readonly failures: number;
}

export interface SourceIp {
  readonly ip: string;
  readonly failures: number;
}

type Db = Kysely<Schema>;

/**
 * Failed logins and locks per bucket; buckets without events are absent. The bucket is the
 * integer division of the event time, which SQLite and PostgreSQL both compute from BIGINT/
 * INTEGER columns; the CAST keeps it an integer should a driver bind a parameter as a float.
 */
export async function countEventsByBucket(db: Db, range: BucketRange): Promise<BucketCounts[]> {
  const rows = await db.selectFrom((eb) => eb.selectFrom("events")
    .select([sql<number>`CAST((at - ${range.from}) / ${range.bucketMs} AS INTEGER)`.as("bucket"), "type"])
    .where("type", "in", ["login.failed", "account.locked"])
    .where("at", ">=", range.from)
    .where("at", "<", range.to)
    .as("e"))
    .select([
      "e.bucket",
      sql<number>`SUM(CASE WHEN e.type = 'login.failed' THEN 1 ELSE 0 END)`.as("failures"),
      sql<number>`SUM(CASE WHEN e.type = 'account.locked' THEN 1 ELSE 0 END)`.as("lockouts"),
    ])
    .groupBy("e.bucket")
    .orderBy("e.bucket")
    .execute();
  return rows.map((row) => ({ index: Number(row.bucket), failures: Number(row.failures), lockouts: Number(row.lockouts) }));
}

/** How many users exist, are locked at `now` (and not disabled), and are disabled. */
export async function countUsers(db: Db, now: number): Promise<UserCounts> {
  const row = await db.selectFrom("users")
    .select([
      sql<number>`COUNT(*)`.as("total"),
      sql<number>`SUM(CASE WHEN disabled_reason IS NULL AND locked_until > ${now} THEN 1 ELSE 0 END)`.as("locked"),
      sql<number>`SUM(CASE WHEN disabled_reason IS NOT NULL THEN 1 ELSE 0 END)`.as("disabled"),
    ])
    .executeTakeFirstOrThrow();
  // SUM over no rows is NULL.
  return { totalUsers: Number(row.total), lockedNow: Number(row.locked ?? 0), disabledNow: Number(row.disabled ?? 0) };
}

/** The e-mails with the most failed logins in the range (known users and unknown addresses). */
export async function topTargetedAccounts(db: Db, range: BucketRange, limit: number): Promise<TargetedAccount[]> {
  const rows = await db.selectFrom("events")
    .select([
      "email",
      sql<string | null>`MAX(user_id)`.as("userId"),
      sql<number>`COUNT(*)`.as("failures"),
    ])
    .where("type", "=", "login.failed")
    .where("email", "is not", null)
    .where("at", ">=", range.from)
    .where("at", "<", range.to)
    .groupBy("email")
    .orderBy("failures", "desc")
    .orderBy("email", "asc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ email: row.email ?? "", userId: row.userId, failures: Number(row.failures) }));
}

/** The client addresses with the most failed logins in the range. */
export async function topSourceIps(db: Db, range: BucketRange, limit: number): Promise<SourceIp[]> {
  const rows = await db.selectFrom("events")
    .select(["ip", sql<number>`COUNT(*)`.as("failures")])
    .where("type", "=", "login.failed")
    .where("ip", "is not", null)
    .where("at", ">=", range.from)
    .where("at", "<", range.to)
    .groupBy("ip")
    .orderBy("failures", "desc")
    .orderBy("ip", "asc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ip: row.ip ?? "", failures: Number(row.failures) }));
}
