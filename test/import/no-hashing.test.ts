import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_ACTOR, importUsers, type Hasher } from "../../src/auth/index.ts";
import { loadConfig } from "../../src/config.ts";
import { createRuntime, type Runtime } from "../../src/runtime.ts";
import { listUsers } from "../../src/store/index.ts";
import { createTestDatabase, DIALECTS, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";

/** Any hashing during an import fails the test. */
const NO_HASHING: Hasher = {
  hash: () => Promise.reject(new Error("import must not hash")),
  verify: () => Promise.reject(new Error("import must not verify")),
  dummyVerify: () => Promise.reject(new Error("import must not verify")),
};
const BCRYPT = "$2b$10$abcdefghijklmnopqrstuu5Nq7l4TfN0bqyDzrKOgc6mZqIvOW4H6";
const USERS = 3_000;

describe.each(DIALECTS)("importUsers in bulk (%s)", (dialect) => {
  let database: TestDatabase;
  let runtime: Runtime;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    const config = loadConfig({ DEADBOLT_DATABASE_URL: database.url, DEADBOLT_SECRET_KEY: TEST_SECRET_KEY });
    runtime = await createRuntime(config, { log: pino({ level: "silent" }), hasher: NO_HASHING });
  });

  afterAll(async () => {
    await runtime.close();
    await database.drop();
  });

  it(`stores ${USERS} given hashes as they are, in batches larger than one statement, without hashing`, async () => {
    const text = Array.from({ length: USERS }, (_, i) => JSON.stringify({ email: `u${i}@example.com`, passwordHash: BCRYPT })).join("\n");
    const result = await importUsers(runtime.auth, text, { dryRun: false, actor: CLI_ACTOR });
    expect(result).toEqual({ ok: true, dryRun: false, imported: USERS, skipped: 0, invalid: 0 });
    const rows = await listUsers(runtime.auth.database.db, { now: Date.now() });
    expect(rows).toHaveLength(USERS);
    expect(new Set(rows.map((row) => row.password_hash))).toEqual(new Set([BCRYPT]));
    const again = await importUsers(runtime.auth, `${text}\n${JSON.stringify({ email: "new@example.com" })}`, { dryRun: false, actor: CLI_ACTOR });
    expect(again).toEqual({ ok: true, dryRun: false, imported: 1, skipped: USERS, invalid: 0 });
  });
});
