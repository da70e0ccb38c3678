import { randomBytes, randomUUID } from "node:crypto";
import {
  enableUser, findTrustedDevice, forgetDevices, guardSecret, NO_METRICS, trustClient, unlockUser, type Actor, type AuthContext, type Client,
  type Logger,
} from "../auth/index.ts";
import { createInstance } from "../auth/instance.ts";
import { createOutboxSignal } from "../notify/signal.ts";
import { MFA_CHALLENGE_TTL_MS, SLOT_WAIT_MS } from "../runtime.ts";
import { findOrInsertUser, findUserByEmail, listEvents, migrate } from "../store/index.ts";
import { cleanHeaderText, withoutNul } from "../text.ts";
import { resolvePolicy } from "./policy.ts";
import { openStorage } from "./storage.ts";
import { createTimingEqualizer } from "../auth/answer-timing.ts";
import {
  LockoutUsageError, type AttemptClient, type ForgetDevicesOptions, type Lockout, type LockoutOptions, type UnlockOptions,
} from "./types.ts";
import { neverAttempted, statusOfRow, toLockoutEvent } from "./views.ts";

const SILENT: Logger = { info() {}, warn() {}, error() {} };
const MAX_ACCOUNT_LENGTH = 512;
const FORGETTERS: readonly ForgetDevicesOptions["by"][] = ["user", "admin", "cli", "password_reset"];

function checkAccount(account: unknown, method: string): string {
  if (typeof account !== "string" || account.length === 0 || account.length > MAX_ACCOUNT_LENGTH) {
    throw new LockoutUsageError(`lockout.${method}: account must be a non-empty string of at most ${MAX_ACCOUNT_LENGTH} characters`);
  }
  // An app's own Kysely or pool has no NUL-free wrapper (store/text-parameters.ts): the same
  // mapping here, so a NUL an attacker typed is one more character on both dialects, never an error.
  return withoutNul(account);
}

function clientOf(client: AttemptClient | undefined): Client {
  const { ip, userAgent } = client ?? {};
  return {
    ip: typeof ip === "string" ? withoutNul(ip) : null,
    userAgent: typeof userAgent === "string" ? cleanHeaderText(userAgent, 512) : null,
  };
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
 *   client: { ip: req.ip, userAgent: req.headers["user-agent"], deviceToken: cookies.deadbolt_device },
 *   onDeviceToken: (token) => res.cookie("deadbolt_device", token, { httpOnly: true, sameSite: "lax", maxAge: 400 * 864e5 }),
 * });
 * if (outcome !== "verified") return res.status(401).json({ error: "invalid_credentials" });
 */
export function createLockout(options: LockoutOptions): Lockout {
  if (typeof options !== "object" || options === null) throw new LockoutUsageError("createLockout: options must be an object");
  if (options.deviceTrust !== undefined && typeof options.deviceTrust !== "boolean") {
    throw new LockoutUsageError(`createLockout: deviceTrust must be true or false (got ${JSON.stringify(options.deviceTrust)})`);
  }
  const policy = resolvePolicy(options.policy);
  const { database, tablePrefix } = openStorage(options);
  const timing = createTimingEqualizer();
  const instance = createInstance(database, { id: randomBytes(9).toString("base64url"), log: options.logger ?? SILENT, now: options.now ?? Date.now });
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
    instance,
    // The service's devices table and guard lanes, keyed by the app's accounts (SPEC "Trusted devices").
    deviceTrust: options.deviceTrust ?? true,
    notify: {
      publicUrl: "http://localhost", warnBeforeLock: false, maxPerHour: 0, resetMaxPerHour: 0, newDevice: false,
      signal: createOutboxSignal(), delivery: "none",
    },
    // The app sets its own passwords: the policy's dictionary is never loaded here.
    passwords: {
      minLength: 8, siteWords: [], breached: null,
      words: () => Promise.reject(new Error("the library never sets passwords")),
    },
  };
  const migrated = migrate(database, { tablePrefix }).then(() => undefined);
  // Reported by the first call that awaits it, not as an unhandled rejection.
  migrated.catch(() => {});
  const find = async (account: string) => {
    await migrated;
    return findUserByEmail(database.db, account);
  };
  const actor = (by: UnlockOptions): Actor => ({
    by: by.by, ...(by.actor === undefined ? {} : { email: by.actor }), client: clientOf(by.client),
  });

  return {
    async attempt(request) {
      const started = performance.now();
      const account = checkAccount(request?.account, "attempt");
      if (typeof request.verify !== "function") throw new LockoutUsageError("lockout.attempt: verify must be a function");
      const factor = option(request.factor, ["password", "mfa"] as const, "factor", "password");
      const signIn = option(request.signIn, ["complete", "needs_second_factor"] as const, "signIn", "complete");
      if (request.onDeviceToken !== undefined && typeof request.onDeviceToken !== "function") {
        throw new LockoutUsageError("lockout.attempt: onDeviceToken must be a function");
      }
      const client = clientOf(request.client);
      const presented = request.client?.deviceToken;
      await migrated;
      const user = await findOrInsertUser(database.db, { id: randomUUID(), email: account, passwordHash: "", role: "user", now: ctx.now() });
      // Malformed, forged or another account's token: null, an untrusted client like any other.
      const device = await findTrustedDevice(ctx, user.id, presented);
      const result = await guardSecret(ctx, {
        userId: user.id,
        user,
        device,
        factor,
        verify: async () => {
          const ok = await request.verify();
          if (typeof ok !== "boolean") throw new LockoutUsageError("lockout.attempt: verify must resolve to true or false");
          return ok;
        },
        client,
        via: factor === "mfa" ? "mfa" : "login",
        onSuccess: signIn === "complete" ? "complete_login" : "release",
      });
      // Trusted inside the timed span (SPEC "Trusted devices" 1: a full sign-in trusts the client).
      const deviceToken = result.kind === "verified" && signIn === "complete" && request.onDeviceToken
        ? await trustClient(ctx, result.user, { token: presented, client, via: "login" })
        : null;
      await timing.finish(started, { sample: result.kind === "verified" || result.kind === "failed" });
      // Not awaited: what it returns may be a thenable that settles only once the answer is sent.
      if (deviceToken !== null) request.onDeviceToken?.(deviceToken);
      return result.kind === "verified" ? "verified" : result.kind === "failed" ? "failed" : "refused";
    },
    async status(account) {
      const row = await find(checkAccount(account, "status"));
      return row ? statusOfRow(row, policy, ctx.now()) : neverAttempted(account, policy);
    },
    async unlock(account, by) {
      checkAccount(account, "unlock");
      if (by?.onDeviceToken !== undefined && typeof by.onDeviceToken !== "function") {
        throw new LockoutUsageError("lockout.unlock: onDeviceToken must be a function");
      }
      // A redeemed link trusts its client (SPEC "Trusted devices" 1), even on a first contact.
      const trusts = (by.by === "token" || by.by === "password_reset") && by.onDeviceToken !== undefined && ctx.deviceTrust;
      await migrated;
      const row = trusts
        ? await findOrInsertUser(database.db, { id: randomUUID(), email: account, passwordHash: "", role: "user", now: ctx.now() })
        : await findUserByEmail(database.db, account);
      if (!row) return neverAttempted(account, policy);
      const result = await unlockUser(ctx, row.id, actor(by));
      if (!result.ok) return neverAttempted(account, policy);
      const client = clientOf(by.client);
      const presented = by.client?.deviceToken;
      if (by.by === "password_reset") {
        await forgetDevices(ctx, result.user, { by: "password_reset", client }, { keepToken: presented ?? null });
      }
      if (trusts) {
        const via = by.by === "token" ? "unlock_link" : "reset_link";
        const token = await trustClient(ctx, result.user, { token: presented, client, via });
        if (token !== null) by.onDeviceToken?.(token);
      }
      return statusOfRow(result.user, policy, ctx.now());
    },
    async enable(account, by) {
      const row = await find(checkAccount(account, "enable"));
      if (!row) return neverAttempted(account, policy);
      const result = await enableUser(ctx, row.id, actor(by));
      return result.ok ? statusOfRow(result.user, policy, ctx.now()) : neverAttempted(account, policy);
    },
    async forgetDevices(account, by: ForgetDevicesOptions) {
      if (!FORGETTERS.includes(by?.by)) throw new LockoutUsageError(`lockout.forgetDevices: by must be ${FORGETTERS.map((f) => `"${f}"`).join(", ")}`);
      const row = await find(checkAccount(account, "forgetDevices"));
      if (!row) return 0;
      return forgetDevices(ctx, row, { by: by.by, ...(by.actor === undefined ? {} : { email: by.actor }), client: { ip: null, userAgent: null } },
        { keepToken: by.keepDeviceToken ?? null });
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
      await instance.stop();
      await database.close();
    },
  };
}
