/**
 * The library's public types, in one file that imports nothing of the service's internals:
 * the emitted `.d.ts` of the package's root export then needs only `kysely`'s own types.
 */
import type { Kysely, PostgresPool } from "kysely";

/**
 * The lockout rules of {@link createLockout}, with the service's defaults (SPEC
 * "Configuration"). Durations are milliseconds.
 */
export interface LockoutPolicy {
  /** Failed attempts that lock the account; 0 = never lock. Default 5. */
  readonly threshold?: number;
  /** The counter resets after this long without a failure. Default 15 minutes. */
  readonly windowMs?: number;
  /** Length of the first lock. Default 15 minutes. */
  readonly durationMs?: number;
  /** Each consecutive lock lasts this many times longer (1 = no backoff). Default 2. */
  readonly backoff?: number;
  /** Cap on a lock's length. Default 24 hours (or `durationMs`, when that is longer). */
  readonly maxDurationMs?: number;
  /** Consecutive locks that disable the account instead (until `enable`); 0 = never. Default 0. */
  readonly disableAfter?: number;
  /** Failed second-factor codes that act (`factor: "mfa"`). Default 5. */
  readonly mfaThreshold?: number;
  /** What reaching `mfaThreshold` does. Default `lock`. */
  readonly mfaAction?: "lock" | "disable";
}

/** Where the lockout keeps its tables. Give exactly one of `databaseUrl` and `db`. */
export interface LockoutStorage {
  /** `sqlite:<path>` or `postgres://…`: the lockout opens (and on `close`, closes) its own connection. */
  readonly databaseUrl?: string;
  /** The app's own Kysely instance (SQLite or PostgreSQL) or `pg` Pool. The lockout never closes it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any app schema is accepted
  readonly db?: Kysely<any> | PostgresPool;
  /** Prefix of the lockout's tables beside the app's. Default `deadbolt_`. */
  readonly tablePrefix?: string;
}

/** The narrow logger the lockout writes its security events to (pino fits). */
export interface LockoutLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface LockoutOptions extends LockoutStorage {
  readonly policy?: LockoutPolicy;
  /** Receives the security events as log lines. Default: silent. */
  readonly logger?: LockoutLogger;
  /** The clock, in epoch milliseconds; tests pass a fixed one. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Trusted devices (SPEC "Trusted devices"; OWASP device cookies): a client that presents a
   * device token this account trusts counts on that device's own counter, and the account's
   * lock stops untrusted clients only, so whoever knows an account key cannot lock its owner
   * out. `false` restores plain per-account lockout (as `DEADBOLT_DEVICE_TRUST=off`). Default `true`.
   */
  readonly deviceTrust?: boolean;
}

/** Where an attempt came from: recorded in the events. */
export interface AttemptClient {
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  /**
   * The device token this client keeps (its cookie), as handed to {@link AttemptRequest.onDeviceToken}.
   * A token this account trusts puts the attempt on that device's own counter; a missing,
   * malformed, forged or other account's token makes an untrusted client, nothing worse.
   */
  readonly deviceToken?: string | null;
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
  /**
   * Called once a `complete` sign-in is `verified` (with device trust on), just before
   * `attempt` resolves: the client is now a trusted device of the account, and must send this
   * token back as `client.deviceToken` from now on. Store it in an HttpOnly cookie (SameSite=Lax,
   * Secure on https, 400 days). It is the token the client presented when well formed (one
   * browser, several accounts), else a new one (256 random bits, stored only as SHA-256).
   * Called synchronously and its result ignored, never awaited (a Fastify `reply` is thenable).
   *
   * @example onDeviceToken: (token) => res.cookie("deadbolt_device", token, { httpOnly: true, sameSite: "lax", maxAge: 400 * 864e5 })
   */
  readonly onDeviceToken?: (deviceToken: string) => void;
}

/** `verified`: the secret was right. `failed`: it was wrong. `refused`: locked, disabled or busy, and not checked. */
export type AttemptOutcome = "verified" | "failed" | "refused";

/** Who lifted a lock, for the audit trail. */
export interface UnlockOptions {
  /**
   * `token`: the user redeemed the app's unlock link; `password_reset`: the user reset the
   * password (this also forgets every trusted device but `client.deviceToken`, SPEC "Trusted
   * devices" 4). Either way the redeeming client may become a trusted device: see `onDeviceToken`.
   */
  readonly by: "admin" | "cli" | "token" | "password_reset" | "emergency";
  /** The acting person (for example the admin's e-mail), kept in the event. */
  readonly actor?: string;
  /** The client that acted (recorded in the event), and the device token it keeps, if any. */
  readonly client?: AttemptClient;
  /**
   * With `by: "token"` or `"password_reset"`: the redeeming client is now a trusted device of
   * the account, with this token to keep, as {@link AttemptRequest.onDeviceToken} (so it signs
   * in even while someone keeps locking the account for untrusted clients). Called
   * synchronously, its result ignored. Ignored for other `by`s (an admin's browser is not the user's).
   */
  readonly onDeviceToken?: (deviceToken: string) => void;
}

/** Who forgot an account's trusted devices, for the audit trail. */
export interface ForgetDevicesOptions {
  readonly by: "user" | "admin" | "cli" | "password_reset";
  /** The acting person (for example the admin's e-mail), kept in the event. */
  readonly actor?: string;
  /** This device stays trusted (on a password reset: the client that reset it). */
  readonly keepDeviceToken?: string | null;
}

/** An account as {@link Lockout.status} reports it. */
export interface LockoutStatus {
  readonly account: string;
  readonly status: "active" | "locked" | "disabled";
  /** Set while `status` is `locked`. */
  readonly lockedUntil: Date | null;
  readonly lockReason: "password" | "mfa" | null;
  readonly disabledReason: "admin" | "mfa_failures" | "repeated_lockouts" | null;
  readonly failedAttempts: number;
  readonly failedMfaAttempts: number;
  /** Failed attempts left before the account locks; null when it never locks. */
  readonly attemptsRemaining: number | null;
  /** Consecutive locks since the last success or unlock (each lasts `backoff` times longer). */
  readonly lockoutCount: number;
  readonly lastFailedAt: Date | null;
  readonly lastSucceededAt: Date | null;
}

export interface LockoutEventQuery {
  readonly account?: string;
  /** For example `login.failed`, `account.locked`, `account.unlocked`. */
  readonly type?: string;
  readonly since?: Date;
  /** Default 100. */
  readonly limit?: number;
}

/** A security event, with the same words as the service's event log. */
export interface LockoutEvent {
  readonly id: number;
  readonly type: string;
  readonly at: Date;
  readonly account: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface Lockout {
  /**
   * Reserves a verification slot, runs `verify`, records the outcome; each outcome takes the
   * same time. A client presenting a trusted `deviceToken` uses that device's own counter and
   * still signs in while the account is locked for untrusted clients; a device at the
   * threshold is `refused` itself, the account untouched.
   */
  attempt(request: AttemptRequest): Promise<AttemptOutcome>;
  /** The account's state now; reading never writes (an expired lock reads as active). */
  status(account: string): Promise<LockoutStatus>;
  /** Clears a temporary lock and the failure counters (a disabled account stays disabled). */
  unlock(account: string, options: UnlockOptions): Promise<LockoutStatus>;
  /** Re-enables an account disabled by `policy.disableAfter` or `mfaAction: "disable"`. */
  enable(account: string, options: UnlockOptions): Promise<LockoutStatus>;
  /**
   * Forgets the account's trusted devices (all, or all but `keepDeviceToken`): call it on a
   * password reset (SPEC: a reset forgets every other trusted device) or when the user reports
   * a lost device. Resolves to how many were forgotten (one `device.forgotten` event).
   */
  forgetDevices(account: string, options: ForgetDevicesOptions): Promise<number>;
  /** Security events, newest first. */
  events(query?: LockoutEventQuery): Promise<LockoutEvent[]>;
  /** Resolves when the tables are migrated; every method waits for it on its own. */
  ready(): Promise<void>;
  /** Closes the connection the lockout opened from `databaseUrl` (never the app's own `db`). */
  close(): Promise<void>;
}

/** A misuse of the library: thrown at creation (or by a call), never returned. */
export class LockoutUsageError extends TypeError {
  readonly code = "invalid_lockout_usage";
}
