/**
 * The lockout bookkeeping of one attempt: everything `guardSecret` does besides argon2
 * (read, reserve-slot compare-and-set, then the record transaction with its event), measured
 * in-process with a `verify` that answers at once. Attempts run one after another, so the
 * numbers are the per-attempt cost without contention.
 */
import { guardSecret, type GuardRequest } from "../src/auth/index.ts";
import { loadConfig } from "../src/config.ts";
import type { Runtime } from "../src/runtime.ts";
import type { UserRow } from "../src/store/index.ts";
import { TEST_SECRET_KEY } from "../test/support/databases.ts";
import { benchRuntime, createUsers } from "./seed.ts";
import { percentile } from "./stats.ts";

/** Failures per user: below the threshold (5), so no user ever locks and every attempt reserves a slot. */
const FAILURES_PER_USER = 4;
const THRESHOLD = 5;
const WARMUP_ATTEMPTS = 50;
const SUCCESS_USERS = 20;

export interface BookkeepingResult {
  readonly path: "failure" | "success";
  readonly attempts: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Up to the moment `verify` is called: user read + slot compare-and-set. */
  readonly reserveP50Ms: number;
  /** After `verify`: re-read + compare-and-set transaction with the event. */
  readonly recordP50Ms: number;
}

interface Sample {
  readonly totalMs: number;
  readonly reserveMs: number;
}

async function attempt(runtime: Runtime, user: UserRow, outcome: boolean): Promise<Sample> {
  let verifyAt = Number.NaN;
  const request: GuardRequest = {
    userId: user.id,
    factor: "password",
    verify: async () => {
      verifyAt = performance.now();
      return outcome;
    },
    client: { ip: "127.0.0.1", userAgent: "deadbolt-bench" },
    via: "login",
    onSuccess: "complete_login",
  };
  const started = performance.now();
  const result = await guardSecret(runtime.auth, request);
  const totalMs = performance.now() - started;
  const expected = outcome ? "verified" : "failed";
  if (result.kind !== expected) throw new Error(`bench: expected ${expected}, the guard answered ${result.kind}`);
  return { totalMs, reserveMs: verifyAt - started };
}

async function measure(
  runtime: Runtime, users: readonly UserRow[], options: { attempts: number; maxMs: number }, outcome: boolean,
): Promise<BookkeepingResult> {
  const samples: Sample[] = [];
  const until = performance.now() + options.maxMs;
  for (let i = 0; i < WARMUP_ATTEMPTS + options.attempts && performance.now() < until; i++) {
    // Round-robin: each user gets at most FAILURES_PER_USER attempts in total.
    const sample = await attempt(runtime, users[i % users.length]!, outcome);
    if (i >= WARMUP_ATTEMPTS) samples.push(sample);
  }
  const totals = samples.map((s) => s.totalMs);
  return {
    path: outcome ? "success" : "failure",
    attempts: samples.length,
    p50Ms: percentile(totals, 50),
    p99Ms: percentile(totals, 99),
    reserveP50Ms: percentile(samples.map((s) => s.reserveMs), 50),
    recordP50Ms: percentile(samples.map((s) => s.totalMs - s.reserveMs), 50),
  };
}

/**
 * Failure and success paths against the database at `databaseUrl` (fresh; migrated here):
 * `attempts` each, or fewer when `maxMs` runs out first.
 */
export async function measureBookkeeping(
  databaseUrl: string, options: { attempts: number; maxMs: number; storedHash: string; password: string },
): Promise<BookkeepingResult[]> {
  const config = loadConfig({
    DEADBOLT_DATABASE_URL: databaseUrl,
    DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
    DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
    DEADBOLT_LOG_LEVEL: "silent",
  });
  const runtime = await benchRuntime(config, options.storedHash);
  try {
    const failureUsers = await createUsers(runtime, "bk-fail",
      Math.ceil((WARMUP_ATTEMPTS + options.attempts) / FAILURES_PER_USER), options.password);
    const successUsers = await createUsers(runtime, "bk-ok", SUCCESS_USERS, options.password);
    return [
      await measure(runtime, failureUsers, options, false),
      await measure(runtime, successUsers, options, true),
    ];
  } finally {
    await runtime.close();
  }
}
