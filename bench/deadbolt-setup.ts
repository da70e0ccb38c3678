import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guardSecret, trustClient } from "../src/auth/index.ts";
import { loadConfig } from "../src/config.ts";
import type { UserRow } from "../src/store/index.ts";
import { benchRuntime, createUsers } from "./seed.ts";

/** Wrong passwords per user: below the threshold, so these users never lock. */
export const WRONG_PER_USER = 4;
export const THRESHOLD = 5;

export interface DeadboltFixture {
  readonly dir: string;
  /** Environment of the deadbolt server process. */
  readonly env: Readonly<Record<string, string>>;
  /** Users for wrong passwords: each may take WRONG_PER_USER of them. */
  readonly wrongUsers: readonly UserRow[];
  /** Users for correct logins (a success resets the counters, so any number each). */
  readonly correctUsers: readonly UserRow[];
  /**
   * Each correct user's deviceToken, as a returning API client sends it back (SPEC "Trusted
   * devices"); without it every sign-in is a new device and mails a notice.
   */
  readonly deviceTokens: readonly string[];
  /** A user locked for the next 15 minutes. */
  readonly lockedUser: UserRow;
}

/**
 * A SQLite database in a temp dir, migrated and filled before the server starts, every user
 * with the same stored hash as the reference server verifies.
 */
export async function prepareDeadbolt(options: {
  storedHash: string; password: string; wrongUsers: number; correctUsers: number;
}): Promise<DeadboltFixture> {
  const dir = mkdtempSync(join(tmpdir(), "deadbolt-bench-"));
  const env = {
    DEADBOLT_DATABASE_URL: `sqlite:${join(dir, "deadbolt.db")}`,
    DEADBOLT_THROTTLE_PER_MINUTE: "0",
    DEADBOLT_LOG_LEVEL: "warn",
    DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
    DEADBOLT_LOCKOUT_DURATION: "15m",
  };
  const runtime = await benchRuntime(loadConfig(env), options.storedHash);
  try {
    const wrongUsers = await createUsers(runtime, "wrong", options.wrongUsers, options.password);
    const correctUsers = await createUsers(runtime, "right", options.correctUsers, options.password);
    const [lockedUser] = await createUsers(runtime, "locked", 1, options.password);
    for (let i = 0; i < THRESHOLD; i++) {
      const result = await guardSecret(runtime.auth, {
        userId: lockedUser!.id, factor: "password", verify: async () => false,
        client: { ip: null, userAgent: "deadbolt-bench" }, via: "login", onSuccess: "complete_login",
      });
      if (result.kind !== "failed") throw new Error(`bench: locking the locked user: ${result.kind}`);
    }
    const deviceTokens: string[] = [];
    for (const user of correctUsers) {
      const token = await trustClient(runtime.auth, user, { token: null, client: { ip: null, userAgent: "deadbolt-bench" }, via: "bench" });
      if (token === null) throw new Error("bench: device trust is off");
      deviceTokens.push(token);
    }
    return { dir, env, wrongUsers, correctUsers, deviceTokens, lockedUser: lockedUser! };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await runtime.close();
  }
}
