import { pooledRandomBytes } from "./auth/entropy.ts";
import type { AuthContext, AuthMetrics, Logger } from "./auth/index.ts";
import { createArgon2Hasher, NO_METRICS, type Hasher } from "./auth/index.ts";
import { createInstance } from "./auth/instance.ts";
import { createHibpClient, type BreachCheck } from "./auth/breached.ts";
import { loadCommonWords } from "./auth/password-dictionary.ts";
import type { PasswordSettings } from "./auth/password-check.ts";
import { resolveSecretKey } from "./auth/secret-box.ts";
import type { Config } from "./config.ts";
import type { Policy } from "./lockout/index.ts";
import { createOutboxSignal } from "./notify/signal.ts";
import { migrate, openDatabase, type Database } from "./store/index.ts";

/**
 * Last resort only: a slot is normally given back by its outcome, or reclaimed within seconds
 * of its owner's death (heartbeat); this bounds a slot whose owner lives but lost track of it.
 */
export const SLOT_TTL_MS = 30_000;
/** Time between a correct password and the second factor. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;
/** How long a surplus attempt waits for a slot before it is answered without a check. */
export const SLOT_WAIT_MS = 10_000;

export function policyOf(config: Config): Policy {
  return { ...config.lockout, slotTtlMs: SLOT_TTL_MS };
}

/** The password policy's settings: the site's own words, the lazy dictionary, the breach check. */
export function passwordSettingsOf(config: Config, breached?: BreachCheck | null): PasswordSettings {
  return {
    minLength: config.passwordMinLength,
    siteWords: [config.appName, new URL(config.publicUrl).hostname],
    words: loadCommonWords,
    breached: breached !== undefined ? breached
      : config.breachedPasswords === "hibp" ? createHibpClient({ baseUrl: config.hibpUrl }) : null,
  };
}

export interface RuntimeOptions {
  readonly database?: Database;
  readonly hasher?: Hasher;
  readonly now?: () => number;
  readonly randomBytes?: (size: number) => Buffer;
  readonly log: Logger;
  readonly metrics?: AuthMetrics;
  /** Replaces the breached-password check that DEADBOLT_BREACHED_PASSWORDS selects (tests). */
  readonly breached?: BreachCheck | null;
  /** A server's runtime: SQLite's WAL is checkpointed off the event loop (store/checkpointer.ts). */
  readonly longLived?: boolean;
}

export interface Runtime {
  readonly config: Config;
  readonly auth: AuthContext;
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations and wires the auth context: the one composition
 * root shared by the server and the CLI.
 */
export async function createRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const database = options.database ?? openDatabase(config.databaseUrl, { backgroundCheckpoints: options.longLived === true });
  let stopInstance = async (): Promise<void> => {};
  try {
    await migrate(database);
    const random = options.randomBytes ?? pooledRandomBytes();
    const instance = createInstance(database, {
      id: random(9).toString("base64url"), log: options.log, now: options.now ?? Date.now,
    });
    stopInstance = () => instance.stop();
    await instance.start();
    const auth: AuthContext = {
      database,
      policy: policyOf(config),
      sessions: { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxAgeMs },
      hasher: options.hasher ?? (await createArgon2Hasher()),
      now: options.now ?? Date.now,
      randomBytes: random,
      log: options.log,
      metrics: options.metrics ?? NO_METRICS,
      slotWaitMs: SLOT_WAIT_MS,
      instance,
      secretKey: resolveSecretKey(config.secretKey, database.sqlitePath),
      issuer: config.appName,
      mfaChallengeTtlMs: MFA_CHALLENGE_TTL_MS,
      notify: {
        publicUrl: config.publicUrl,
        warnBeforeLock: config.warnBeforeLock,
        maxPerHour: config.notifyMaxPerHour,
        resetMaxPerHour: config.resetMaxPerHour,
        newDevice: config.notifyNewDevice,
        signal: createOutboxSignal(),
      },
      deviceTrust: config.deviceTrust,
      passwords: passwordSettingsOf(config, options.breached),
    };
    return {
      config, auth,
      async close() {
        await instance.stop();
        await database.close();
      },
    };
  } catch (error) {
    await stopInstance();
    await database.close();
    throw error;
  }
}
