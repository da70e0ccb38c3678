import pino from "pino";
import { createUser, type Hasher } from "../src/auth/index.ts";
import type { Config } from "../src/config.ts";
import { createRuntime, type Runtime } from "../src/runtime.ts";
import type { UserRow } from "../src/store/index.ts";

/**
 * A hasher whose `hash` returns one precomputed argon2id hash, so thousands of bench users
 * are created in a second and every stored hash costs exactly what the reference verifies.
 * The bench never lets the runtime verify through it.
 */
export function precomputedHasher(storedHash: string): Hasher {
  return {
    hash: async () => storedHash,
    verify: async () => {
      throw new Error("bench: the seeding runtime does not verify passwords");
    },
    dummyVerify: async () => {
      throw new Error("bench: the seeding runtime does not verify passwords");
    },
  };
}

/** A runtime (migrated database, auth context) whose users all get `storedHash`. */
export function benchRuntime(config: Config, storedHash: string): Promise<Runtime> {
  return createRuntime(config, { log: pino({ level: "silent" }), hasher: precomputedHasher(storedHash) });
}

/** Creates users `prefix-0000@example.com`…, a few at a time (PostgreSQL's pool has 10 connections). */
export async function createUsers(runtime: Runtime, prefix: string, count: number, password: string): Promise<UserRow[]> {
  const users: UserRow[] = [];
  const batch = 8;
  for (let start = 0; start < count; start += batch) {
    const created = await Promise.all(Array.from({ length: Math.min(batch, count - start) }, async (_, i) => {
      const email = `${prefix}-${String(start + i).padStart(5, "0")}@example.com`;
      const result = await createUser(runtime.auth, { email, password, role: "user" },
        { by: "cli", client: { ip: null, userAgent: null } });
      if (!result.ok) throw new Error(`bench: createUser ${email}: ${result.error}`);
      return result.user;
    }));
    users.push(...created);
  }
  return users;
}
