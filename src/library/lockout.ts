import { randomBytes, randomUUID } from "node:crypto";
import { enableUser, guardSecret, NO_METRICS, unlockUser, type Actor, type AuthContext, type Logger } from "../auth/index.ts";
import { createOutboxSignal } from "../notify/signal.ts";
import { MFA_CHALLENGE_TTL_MS, SLOT_WAIT_MS } from "../runtime.ts";
import { findOrInsertUser, findUserByEmail, listEvents, migrate } from "../store/index.ts";
import { LockoutUsageError, resolvePolicy, type LockoutPolicy } from "./policy.ts";
import { openStorage, type LockoutStorage } from "./storage.ts";
import { createTimingEqualizer } from "./timing.ts";
import { statusOfRow, toLockoutEvent, neverAttempted, type LockoutEvent, type LockoutEventQuery, type LockoutStatus } from "./views.ts";

export interface LockoutOptions extends LockoutStorage {
  readonly policy?: LockoutPolicy;
  /** Receives the security events as log lines (pino fits). Default: silent. */
  readonly logger?: Logger;
  /** The clock, in epoch milliseconds; tests pass a fixed one. Default `Date.now`. */
  readonly now?: () => number;
}

/** Where an attempt came from: recorded in the events. */
export interface AttemptClient {
  readonly ip?: string | null;
  readonly userAgent?: string | null;
}

export interface AttemptRequest {
  /** The app's own key for the account (user id, e-mail, any string up to 512 characters). */
  readonly account: string;
  /**
   * The app's check of the secret: true when it is right. Runs only when a verification slot
   * is free, so never more than `threshold` times before the account locks, on any number of
   * processes. A throw is passed on and counts as nothing.
   */
  readonly verify: () => Promise<boolean> | boolean;
  readonly client?: AttemptClient;
  /** Which counter the attempt uses. Default `password`. */
  readonly factor?: "password" | "mfa";
  /**
   * `complete` (default): a success ends the sign-in and resets the counters.
   * `needs_second_factor`: a right password only frees its slot; the second factor's
   * `complete` attempt then resets them (a right password never resets the second factor's counter).
   */
  readonly signIn?: "complete" | "needs_second_factor";
}

/** `verified`: the secret was right. `failed`: it was wrong. `refused`: locked, disabled or busy, and not checked. */
export type AttemptOutcome = "verified" | "failed" | "refused";

/** Who lifted a lock, for the audit trail. */
export interface UnlockOptions {
  readonly by: Actor["by"];
  /** The acting person (for example the admin's e-mail), kept in the event. */
  readonly actor?: string;
}

export interface Lockout {
  /** Reserves a verification slot, runs `verify`, records the outcome; each outcome takes the same time. */
  attempt(request: AttemptRequest): Promise<AttemptOutcome>;
  /** The account's state now; reading never writes (an expired lock reads as active). */
  status(account: string): Promise<LockoutStatus>;
  /** Clears a temporary lock and the failure counters (a disabled account stays disabled). */
  unlock(account: string, options: UnlockOptions): Promise<LockoutStatus>;
  /** Re-enables an account disabled by `policy.disableAfter` or `mfaAction: "disable"`. */
  enable(account: string, options: UnlockOptions): Promise<LockoutStatus>;
  /** Security events, newest first. */
  events(query?: LockoutEventQuery): Promise<LockoutEvent[]>;
  /** Resolves when the tables are migrated; every method waits for it on its own. */
  ready(): Promise<void>;
  /** Closes the connection the lockout opened from `databaseUrl` (never the app's own `db`). */
  close(): Promise<void>;
}

const SILENT: Logger = { info() {}, warn() {}, error() {} };
const MAX_ACCOUNT_LENGTH = 512;

function checkAccount(account: unknown, method: string): string {
  if (typeof account !== "string" || account.length === 0 || account.length > MAX_ACCOUNT_LENGTH) {
    throw new LockoutUsageError(`lockout.${method}: account must be a non-empty string of at most ${MAX_ACCOUNT_LENGTH} characters`);
  }
  return account;
}

function option<T extends string>(value: T | undefined, allowed: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new LockoutUsageError(`lockout.attempt: ${name} must be ${allowed.map((a) => `"${a}"`).join(" or ")}`);
  return value;
}

/**
 * The lockout of deadbolt for an app that keeps its own users and password check: the same
 * engine, store and guard as the service, on tables prefixed `deadbolt_` beside the app's.
 * Misuse (a bad policy, no database) throws here, naming the field.
 *
 * @example
 * const lockout = createLockout({ databaseUrl: "sqlite:./data/app.db", policy: { threshold: 5 } });
 * const outcome = await lockout.attempt({
 *   account: user?.id ?? email,
 *   verify: () => (user ? argon2.verify(user.hash, password) : false),
 *   client: { ip: req.ip, userAgent: req.headers["user-agent"] },
 * });
 * if (outcome !== "verified") return res.status(401).json({ error: "invalid_credentials" });
 */
export function createLockout(options: LockoutOptions): Lockout {
  if (typeof options !== "object" || options === null) throw new LockoutUsageError("createLockout: options must be an object");
  const policy = resolvePolicy(options.policy);
  const { database, tablePrefix } = openStorage(options);
  const timing = createTimingEqualizer();
  const ctx: AuthContext = {
    database,
    policy,
    // Sessions, TOTP and mail are the app's business: these are never used by the library.
    sessions: { idleMs: 1, absoluteMs: 1 },
    hasher: {
      hash: () => Promise.reject(new Error("the library never hashes")),
      verify: () => Promise.reject(new Error("the library verifies with the app's callback")),
      // A refusal's time is matched after the guard returns (timing.ts), around the whole attempt.
      dummyVerify: async () => {},
    },
    now: options.now ?? Date.now,
    randomBytes,
    log: options.logger ?? SILENT,
    metrics: NO_METRICS,
    secretKey: randomBytes(32),
    issuer: "deadbolt",
    mfaChallengeTtlMs: MFA_CHALLENGE_TTL_MS,
    slotWaitMs: SLOT_WAIT_MS,
    notify: { publicUrl: "http://localhost", warnBeforeLock: false, maxPerHour: 0, signal: createOutboxSignal(), delivery: "none" },
  };
  const migrated = migrate(database, { tablePrefix }).then(() => undefined);
  // Reported by the first call that awaits it, not as an unhandled rejection.
  migrated.catch(() => {});
  const find = async (account: string) => {
    await migrated;
    return findUserByEmail(database.db, account);
  };
  const actor = (by: UnlockOptions): Actor => ({
    by: by.by, ...(by.actor === undefined ? {} : { email: by.actor }), client: { ip: null, userAgent: null },
  });

  return {
    async attempt(request) {
      const started = performance.now();
      const account = checkAccount(request?.account, "attempt");
      if (typeof request.verify !== "function") throw new LockoutUsageError("lockout.attempt: verify must be a function");
      const factor = option(request.factor, ["password", "mfa"] as const, "factor", "password");
      const signIn = option(request.signIn, ["complete", "needs_second_factor"] as const, "signIn", "complete");
      await migrated;
      const user = await findOrInsertUser(database.db, { id: randomUUID(), email: account, passwordHash: "", role: "user", now: ctx.now() });
      const result = await guardSecret(ctx, {
        userId: user.id,
        user,
        factor,
        verify: async () => {
          const ok = await request.verify();
          if (typeof ok !== "boolean") throw new LockoutUsageError("lockout.attempt: verify must resolve to true or false");
          return ok;
        },
        client: { ip: request.client?.ip ?? null, userAgent: request.client?.userAgent ?? null },
        via: factor === "mfa" ? "mfa" : "login",
        onSuccess: signIn === "complete" ? "complete_login" : "release",
      });
      await timing.finish(started, { verified: result.kind === "verified" || result.kind === "failed" });
      return result.kind === "verified" ? "verified" : result.kind === "failed" ? "failed" : "refused";
    },
    async status(account) {
      const row = await find(checkAccount(account, "status"));
      return row ? statusOfRow(row, policy, ctx.now()) : neverAttempted(account, policy);
    },
    async unlock(account, by) {
      const row = await find(checkAccount(account, "unlock"));
      if (!row) return neverAttempted(account, policy);
      const result = await unlockUser(ctx, row.id, actor(by));
      return result.ok ? statusOfRow(result.user, policy, ctx.now()) : neverAttempted(account, policy);
    },
    async enable(account, by) {
      const row = await find(checkAccount(account, "enable"));
      if (!row) return neverAttempted(account, policy);
      const result = await enableUser(ctx, row.id, actor(by));
      return result.ok ? statusOfRow(result.user, policy, ctx.now()) : neverAttempted(account, policy);
    },
    async events(query = {}) {
      await migrated;
      const events = await listEvents(database.db, {
        ...(query.account === undefined ? {} : { email: checkAccount(query.account, "events") }),
        ...(query.type === undefined ? {} : { type: query.type }),
        ...(query.since === undefined ? {} : { since: query.since.getTime() }),
        limit: query.limit ?? 100,
        order: "newest",
      });
      return events.map(toLockoutEvent);
    },
    ready: () => migrated,
    async close() {
      await migrated.catch(() => {});
      await database.close();
    },
  };
}
