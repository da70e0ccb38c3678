import { randomBytes } from "node:crypto";
import type { AuthContext, AuthMetrics, Logger } from "./auth/index.ts";
import { createArgon2Hasher, NO_METRICS, type Hasher } from "./auth/index.ts";
import { resolveSecretKey } from "./auth/secret-box.ts";
import type { Config } from "./config.ts";
import type { Policy } from "./lockout/index.ts";
import { createOutboxSignal } from "./notify/signal.ts";
import { migrate, openDatabase, type Database } from "./store/index.ts";

/** A verification takes milliseconds; a slot older than this belonged to a crashed process. */
export const SLOT_TTL_MS = 30_000;
/** Time between a correct password and the second factor. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;
/** How long a surplus attempt waits for a slot before it is answered without a check. */
export const SLOT_WAIT_MS = 10_000;

export function policyOf(config: Config): Policy {
  return { ...config.lockout, slotTtlMs: SLOT_TTL_MS };
}

export interface RuntimeOptions {
  readonly database?: Database;
  readonly hasher?: Hasher;
  readonly now?: () => number;
  readonly randomBytes?: (size: number) => Buffer;
  readonly log: Logger;
  readonly metrics?: AuthMetrics;
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
  const database = options.database ?? openDatabase(config.databaseUrl);
  try {
    await migrate(database);
    const auth: AuthContext = {
      database,
      policy: policyOf(config),
      sessions: { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxAgeMs },
      hasher: options.hasher ?? (await createArgon2Hasher()),
      now: options.now ?? Date.now,
      randomBytes: options.randomBytes ?? randomBytes,
      log: options.log,
      metrics: options.metrics ?? NO_METRICS,
      slotWaitMs: SLOT_WAIT_MS,
      secretKey: resolveSecretKey(config.secretKey, database.sqlitePath),
      issuer: "deadbolt",
      mfaChallengeTtlMs: MFA_CHALLENGE_TTL_MS,
      notify: {
        publicUrl: config.publicUrl,
        warnBeforeLock: config.warnBeforeLock,
        maxPerHour: config.notifyMaxPerHour,
        signal: createOutboxSignal(),
      },
    };
    return { config, auth, close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}
