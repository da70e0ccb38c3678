import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLockout, LockoutUsageError, type Lockout } from "../../src/index.ts";
import { migrate, openDatabase } from "../../src/store/index.ts";
import { createClock } from "../support/app.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const MINUTE = 60_000;
const POLICY = { threshold: 3, windowMs: 10 * MINUTE, durationMs: 15 * MINUTE, backoff: 2, maxDurationMs: 60 * MINUTE, disableAfter: 3 };
const CLIENT = { ip: "203.0.113.50", userAgent: "library-test" };

describe("createLockout misuse", () => {
  it.each([
    [{ databaseUrl: "sqlite::memory:", policy: { threshold: -1 } }, /policy\.threshold must be a whole number from 0 to 1000 \(got -1\)/],
    [{ databaseUrl: "sqlite::memory:", policy: { durationMs: "15m" } }, /policy\.durationMs must be a whole number of milliseconds/],
    [{ databaseUrl: "sqlite::memory:", policy: { durationMs: 10 * MINUTE, maxDurationMs: MINUTE } }, /policy\.maxDurationMs \(60000\) must be at least policy\.durationMs/],
    [{ databaseUrl: "sqlite::memory:", policy: { treshold: 5 } }, /policy\.treshold is not a setting/],
    [{ databaseUrl: "sqlite::memory:", policy: { mfaAction: "ban" } }, /policy\.mfaAction must be "lock" or "disable"/],
    [{ databaseUrl: "sqlite::memory:", policy: { backoff: 0.5 } }, /policy\.backoff must be a number from 1 to 100/],
    [{}, /give exactly one of databaseUrl and db/],
    [{ databaseUrl: "mysql://localhost/app" }, /databaseUrl must be sqlite:<path> or postgres:\/\//],
    [{ db: { query: () => {} } }, /db must be a Kysely instance or a pg Pool/],
    [{ databaseUrl: "sqlite::memory:", tablePrefix: "Robert'); DROP TABLE" }, /tablePrefix must be/],
  ])("throws at creation, naming the field: %j", (options, message) => {
    expect(() => createLockout(options as never)).toThrow(LockoutUsageError);
    expect(() => createLockout(options as never)).toThrow(message);
  });

  it("throws on a bad call instead of counting it", async () => {
    const lockout = createLockout({ databaseUrl: "sqlite::memory:" });
    try {
      await expect(lockout.attempt({ account: "", verify: () => true })).rejects.toThrow(/account must be a non-empty string/);
      await expect(lockout.attempt({ account: "a", verify: (() => "yes") as never })).rejects.toThrow(/verify must resolve to true or false/);
      expect((await lockout.status("a")).failedAttempts).toBe(0);
    } finally {
      await lockout.close();
    }
  });
});

describe.each(DIALECTS)("createLockout (%s)", (dialect) => {
  let database: TestDatabase;
  let lockout: Lockout;
  const clock = createClock();
  let verifications = 0;
  const check = (password: string) => async (): Promise<boolean> => {
    verifications++;
    return password === "right password";
  };
  const attempt = (account: string, password: string) => lockout.attempt({ account, verify: check(password), client: CLIENT });

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    lockout = createLockout({ databaseUrl: database.url, policy: POLICY, now: clock.now });
  });

  afterAll(async () => {
    await lockout.close();
    await database.drop();
  });

  it("locks at the threshold and refuses without calling verify; the lock's end leaves fresh attempts", async () => {
    const account = "Alice";
    verifications = 0;
    expect(await attempt(account, "wrong")).toBe("failed");
    expect(await attempt(account, "wrong")).toBe("failed");
    expect(await lockout.status(account)).toMatchObject({ status: "active", failedAttempts: 2, attemptsRemaining: 1 });
    expect(await attempt(account, "wrong")).toBe("failed");
    const locked = await lockout.status(account);
    expect(locked).toMatchObject({ status: "locked", lockReason: "password", lockoutCount: 1, attemptsRemaining: 0 });
    expect(locked.lockedUntil?.getTime()).toBe(clock.now() + 15 * MINUTE);
    expect(await attempt(account, "right password"), "a locked account refuses even the right secret").toBe("refused");
    expect(verifications).toBe(3);
    // Account keys are the app's own: case matters, "alice" is someone else.
    expect(await attempt("alice", "right password")).toBe("verified");

    clock.advance(15 * MINUTE);
    expect(await lockout.status(account)).toMatchObject({ status: "active", failedAttempts: 0, lockedUntil: null });
    expect(await attempt(account, "wrong")).toBe("failed");
    expect((await lockout.status(account)).failedAttempts, "one typo after the lock does not re-lock").toBe(1);
  });

  it("backs off: the second consecutive lock lasts twice as long; a success resets the count", async () => {
    const account = "user:bob";
    for (let lock = 1; lock <= 2; lock++) {
      for (let i = 0; i < POLICY.threshold; i++) await attempt(account, "wrong");
      const status = await lockout.status(account);
      expect(status.lockoutCount).toBe(lock);
      expect(status.lockedUntil?.getTime()).toBe(clock.now() + 15 * MINUTE * 2 ** (lock - 1));
      clock.advance(15 * MINUTE * 2 ** (lock - 1));
    }
    expect(await attempt(account, "right password")).toBe("verified");
    expect(await lockout.status(account)).toMatchObject({ lockoutCount: 0, failedAttempts: 0, status: "active" });
  });

  it("unlock clears the lock and counters (audited with who); disableAfter disables until enable", async () => {
    const account = "carol@example.com";
    for (let i = 0; i < POLICY.threshold; i++) await attempt(account, "wrong");
    expect((await lockout.unlock(account, { by: "admin", actor: "ops@example.com" })).status).toBe("active");
    const [unlocked] = await lockout.events({ account, type: "account.unlocked" });
    expect(unlocked).toMatchObject({ account, details: { by: "admin", actor: "ops@example.com", wasLocked: true } });

    for (let lock = 1; lock <= POLICY.disableAfter; lock++) {
      for (let i = 0; i < POLICY.threshold; i++) await attempt(account, "wrong");
      clock.advance(POLICY.maxDurationMs);
    }
    expect(await lockout.status(account)).toMatchObject({ status: "disabled", disabledReason: "repeated_lockouts" });
    expect(await attempt(account, "right password")).toBe("refused");
    expect((await lockout.unlock(account, { by: "admin" })).status, "unlock does not enable").toBe("disabled");
    expect((await lockout.enable(account, { by: "admin" })).status).toBe("active");
    expect(await attempt(account, "right password")).toBe("verified");
    const types = (await lockout.events({ account })).map((event) => event.type);
    expect(types).toContain("account.disabled");
    expect(types).toContain("login.succeeded");
  });

  it("keeps a second factor's counter apart: a right password does not reset it", async () => {
    const account = "dave";
    const mfa = (ok: boolean) => lockout.attempt({ account, factor: "mfa", verify: () => ok, client: CLIENT });
    expect(await lockout.attempt({ account, verify: () => true, signIn: "needs_second_factor" })).toBe("verified");
    expect(await mfa(false)).toBe("failed");
    expect(await lockout.attempt({ account, verify: () => true, signIn: "needs_second_factor" })).toBe("verified");
    expect((await lockout.status(account)).failedMfaAttempts).toBe(1);
    expect(await mfa(true)).toBe("verified");
    expect((await lockout.status(account)).failedMfaAttempts).toBe(0);
  });

  it("reads never write; an unknown account reads as fresh and is not created", async () => {
    expect(await lockout.status("never-seen")).toMatchObject({ status: "active", failedAttempts: 0, attemptsRemaining: 3 });
    expect(await lockout.events({ account: "never-seen" })).toEqual([]);
  });

  it("counts concurrent wrong attempts exactly: never more verifications than the threshold", async () => {
    verifications = 0;
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => attempt("eve", "wrong")));
    expect(verifications).toBe(POLICY.threshold);
    expect(outcomes.filter((o) => o === "failed")).toHaveLength(POLICY.threshold);
    expect(outcomes.filter((o) => o === "refused")).toHaveLength(30 - POLICY.threshold);
  });

  it("answers verified, failed and refused on the same time grid", async () => {
    const slow = (ok: boolean) => async (): Promise<boolean> => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return ok;
    };
    const time = async (account: string, ok: boolean): Promise<number> => {
      const started = performance.now();
      await lockout.attempt({ account, verify: slow(ok) });
      return performance.now() - started;
    };
    for (let i = 0; i < POLICY.threshold; i++) await time("frank", false);
    const buckets = { verified: [] as number[], failed: [] as number[], refused: [] as number[] };
    for (let i = 0; i < 9; i++) {
      buckets.verified.push(await time("grace", true));
      buckets.failed.push(await time(`heidi-${i}`, false));
      buckets.refused.push(await time("frank", true));
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    // Every attempt ends on a multiple of 50 ms after it began (plus the timer's lateness).
    const offGrid = (ms: number): number => Math.min(ms % 50, 50 - (ms % 50));
    expect(median([...buckets.verified, ...buckets.failed, ...buckets.refused].map(offGrid))).toBeLessThan(20);
    // The refusal waits as long as the app's verify would have. A burst of load on a shared
    // machine can push one kind of attempt past a grid point for a few rounds, so the medians
    // may differ by one grid step, never by more.
    expect(Math.abs(median(buckets.refused) - median(buckets.failed))).toBeLessThanOrEqual(50 + 20);
    expect(Math.abs(median(buckets.verified) - median(buckets.failed))).toBeLessThanOrEqual(50 + 20);
    expect(median(buckets.refused)).toBeGreaterThanOrEqual(40);
  });
});

describe.each(DIALECTS)("createLockout beside the app's own tables (%s)", (dialect) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });

  afterAll(async () => {
    await database.drop();
  });

  it("migrates beside the service's own tables and another prefix: no table, index or constraint name collides", async () => {
    const shared = await createTestDatabase(dialect);
    try {
      const service = openDatabase(shared.url);
      try {
        await migrate(service);
      } finally {
        await service.close();
      }
      for (const tablePrefix of ["deadbolt_", "other_"]) {
        const lockout = createLockout({ databaseUrl: shared.url, tablePrefix });
        try {
          await lockout.ready();
          expect(await lockout.attempt({ account: "x", verify: () => true })).toBe("verified");
        } finally {
          await lockout.close();
        }
      }
    } finally {
      await shared.drop();
    }
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's schema is the app's
  async function withAppDb<T>(use: (db: Kysely<any>, pool: pg.Pool | null) => Promise<T>): Promise<T> {
    const pool = dialect === "postgres" ? new pg.Pool({ connectionString: database.url }) : null;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const db = new Kysely<any>({
      dialect: pool ? new PostgresDialect({ pool }) : new SqliteDialect({ database: new SqliteDatabase(database.url.slice("sqlite:".length)) }),
    });
    try {
      return await use(db, pool);
    } finally {
      await db.destroy();
    }
  }

  it("adopts the app's Kysely instance (and pg pool): prefixed tables, the app's `users` table untouched", async () => {
    await withAppDb(async (db, pool) => {
      await db.schema.createTable("users").addColumn("id", "text", (c) => c.primaryKey()).addColumn("name", "text").execute();
      await db.insertInto("users").values({ id: "u1", name: "the app's user" }).execute();

      const lockout = createLockout({ db, policy: { threshold: 2 } });
      expect(await lockout.attempt({ account: "u1", verify: () => false })).toBe("failed");
      expect(await lockout.attempt({ account: "u1", verify: () => false })).toBe("failed");
      const status = await lockout.status("u1");
      expect(status.status).toBe("locked");
      expect(status.lockedUntil).toBeInstanceOf(Date);
      await lockout.close();
      // The app's connection still works: close() leaves what the app owns.
      expect(await db.selectFrom("users").selectAll().execute()).toEqual([{ id: "u1", name: "the app's user" }]);

      const tables = dialect === "postgres"
        ? (await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`.execute(db)).rows
        : (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(db)).rows;
      const names = tables.map((t) => t.name);
      expect(names).toContain("deadbolt_users");
      expect(names).toContain("deadbolt_events");
      expect(names).toContain("deadbolt_kysely_migration");
      expect(names.filter((n) => !n.startsWith("deadbolt_") && !n.startsWith("sqlite_"))).toEqual(["users"]);

      if (pool) {
        const overPool = createLockout({ db: pool, policy: { threshold: 2 } });
        expect(await overPool.attempt({ account: "u1", verify: () => true })).toBe("refused");
        expect((await overPool.status("u1")).lockedUntil?.getTime()).toBe(status.lockedUntil?.getTime());
        await overPool.close();
        expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      }
    });
  });
});
