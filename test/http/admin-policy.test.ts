import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser, emergencyUnlock } from "../../src/auth/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, eventTrail, me, MINUTE, signIn, viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const iso = (ms: number) => new Date(ms).toISOString();
/** Admins lock after 2 failures and the first lock would disable. */
const DISABLE_ON_FIRST_LOCK = {
  DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "2", DEADBOLT_LOCKOUT_DURATION: "1m", DEADBOLT_LOCKOUT_DISABLE_AFTER: "1",
};

describe.each(DIALECTS)("admins and the lockout policy (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function fail(email: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await postLogin(t.app, email, `guess-${i}`)).statusCode).toBe(401);
  }

  async function statusOf(email: string) {
    const view = await viewOf(t, email);
    return { status: view.status, disabledReason: view.disabledReason };
  }

  it("an admin locks at DEADBOLT_ADMIN_LOCKOUT_THRESHOLD, not at the user threshold", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "2", DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "4" } });
    await t.createUser("root@example.com", RIGHT, "admin");
    await t.createUser("ann@example.com", RIGHT);
    await fail("ann@example.com", 2);
    expect((await viewOf(t, "ann@example.com")).status).toBe("locked");

    await fail("root@example.com", 3);
    const view = await viewOf(t, "root@example.com");
    expect({ status: view.status, failures: view.failedPasswordAttempts }).toEqual({ status: "active", failures: 3 });
    await fail("root@example.com", 1);
    const locks = await events(t, { type: "account.locked", email: "root@example.com" });
    expect(locks.map((e) => e.details)).toEqual([{
      factor: "password", failedAttempts: 4, lockedUntil: iso(t.clock.now() + 15 * MINUTE), lockoutCount: 1,
    }]);
    const failed = await events(t, { type: "login.failed", email: "root@example.com" });
    expect(failed.map((e) => e.details.threshold)).toEqual([4, 4, 4, 4]);
  });

  it("the last active admin is locked instead of disabled, and the event says so", async () => {
    t = await createTestApp(dialect, { env: DISABLE_ON_FIRST_LOCK });
    await t.createUser("root@example.com", RIGHT, "admin");
    const token = await signIn(t, "root@example.com", RIGHT);
    await fail("root@example.com", 2);

    expect(await statusOf("root@example.com")).toEqual({ status: "locked", disabledReason: null });
    const locked = await events(t, { type: "account.locked" });
    expect(locked.map((e) => ({ message: e.message, details: e.details }))).toEqual([{
      message: "account locked until 2026-11-22T12:01:00Z after 2 failed password attempts " +
        "(policy would disable it, but it is the last active admin)",
      details: {
        factor: "password", failedAttempts: 2, lockedUntil: "2026-11-22T12:01:00.000Z", lockoutCount: 1,
        insteadOfDisable: true, lastActiveAdmin: true,
      },
    }]);
    expect(await events(t, { type: "account.disabled" })).toEqual([]);
    // A lock, not a disable: the session survives and the lock ends by itself.
    expect((await me(t, token)).statusCode).toBe(200);
    t.clock.advance(MINUTE);
    expect((await postLogin(t.app, "root@example.com", RIGHT)).statusCode).toBe(200);
  });

  it("with a second active admin the policy disables; a disabled second admin does not count", async () => {
    t = await createTestApp(dialect, { env: DISABLE_ON_FIRST_LOCK });
    await t.createUser("root@example.com", RIGHT, "admin");
    await t.createUser("deputy@example.com", RIGHT, "admin");
    const token = await signIn(t, "root@example.com", RIGHT);
    await fail("root@example.com", 2);
    expect(await statusOf("root@example.com")).toEqual({ status: "disabled", disabledReason: "repeated_lockouts" });
    expect((await me(t, token)).statusCode).toBe(401);
    const disabled = await events(t, { type: "account.disabled" });
    expect(disabled.map((e) => e.details)).toEqual([{ reason: "repeated_lockouts", factor: "password", failedAttempts: 2, lockoutCount: 1 }]);
    expect(disabled[0]?.message).toBe("account disabled after 1 consecutive lockouts (2 failed password attempts)");

    // Now deputy is the last active admin: the same policy locks it instead.
    await fail("deputy@example.com", 2);
    expect(await statusOf("deputy@example.com")).toEqual({ status: "locked", disabledReason: null });
    expect(await eventTrail(t, "deputy@example.com")).toEqual([
      "user.created", "login.failed:wrong_password", "login.failed:wrong_password", "account.locked",
    ]);
  });

  it("an admin disabled by request is not an active admin either", async () => {
    t = await createTestApp(dialect, { env: DISABLE_ON_FIRST_LOCK });
    await t.createUser("root@example.com", RIGHT, "admin");
    const deputy = await t.createUser("deputy@example.com", RIGHT, "admin");
    expect((await disableUser(t.auth, deputy.id, CLI_ACTOR)).ok).toBe(true);
    await fail("root@example.com", 2);
    expect(await statusOf("root@example.com")).toEqual({ status: "locked", disabledReason: null });
  });

  it("emergencyUnlock brings back a locked admin: active, fresh counters, event by emergency", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "2" } });
    const root = await t.createUser("root@example.com", RIGHT, "admin");
    await fail("root@example.com", 2);
    expect(await statusOf("root@example.com")).toEqual({ status: "locked", disabledReason: null });

    const unlocked = await emergencyUnlock(t.auth, "Root@Example.com");
    expect(unlocked?.id).toBe(root.id);
    const view = await viewOf(t, "root@example.com");
    expect({ status: view.status, lockedUntil: view.lockedUntil, failures: view.failedPasswordAttempts, lockoutCount: view.lockoutCount })
      .toEqual({ status: "active", lockedUntil: null, failures: 0, lockoutCount: 0 });
    const unlocks = await events(t, { type: "account.unlocked" });
    expect(unlocks.map((e) => ({ userId: e.userId, details: e.details }))).toEqual([{
      userId: root.id, details: { by: "emergency", previousStatus: "locked", previousDisabledReason: null },
    }]);
    expect((await postLogin(t.app, "root@example.com", RIGHT)).statusCode).toBe(200);
  });

  it("emergencyUnlock brings back a disabled admin; an unknown address changes nothing", async () => {
    t = await createTestApp(dialect, { env: DISABLE_ON_FIRST_LOCK });
    const root = await t.createUser("root@example.com", RIGHT, "admin");
    await t.createUser("deputy@example.com", RIGHT, "admin");
    await fail("root@example.com", 2);
    expect(await statusOf("root@example.com")).toEqual({ status: "disabled", disabledReason: "repeated_lockouts" });

    expect((await emergencyUnlock(t.auth, "root@example.com"))?.id).toBe(root.id);
    expect(await statusOf("root@example.com")).toEqual({ status: "active", disabledReason: null });
    const unlocked = await events(t, { type: "account.unlocked" });
    expect(unlocked.map((e) => e.details)).toEqual([
      { by: "emergency", previousStatus: "disabled", previousDisabledReason: "repeated_lockouts" },
    ]);
    expect((await postLogin(t.app, "root@example.com", RIGHT)).statusCode).toBe(200);

    const before = (await events(t)).length;
    expect(await emergencyUnlock(t.auth, "ghost@example.com")).toBeNull();
    expect((await events(t)).length).toBe(before);
  });

  it("two admins reaching the disable at the same time: one is disabled, the last one is locked instead", async () => {
    t = await createTestApp(dialect, { env: { ...DISABLE_ON_FIRST_LOCK, DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "1" } });
    await t.createUser("root@example.com", RIGHT, "admin");
    await t.createUser("deputy@example.com", RIGHT, "admin");
    const answers = await Promise.all([postLogin(t.app, "root@example.com", "guess"), postLogin(t.app, "deputy@example.com", "guess")]);
    expect(answers.map((r) => r.statusCode)).toEqual([401, 401]);
    const statuses = [await statusOf("root@example.com"), await statusOf("deputy@example.com")].map((s) => s.status).sort();
    expect(statuses).toEqual(["disabled", "locked"]);
  });

  // Regression: under PostgreSQL's READ COMMITTED, the "another admin stays active" EXISTS check
  // of two concurrent disables each saw the other admin as active (its UPDATE not committed yet)
  // and both admins were disabled. Holding a lock on `events`, which both transactions insert
  // into right after their UPDATE, forces exactly that interleaving.
  it.runIf(dialect === "postgres")("two admins failing at the same time never disable both, even when their writes interleave", async () => {
    t = await createTestApp(dialect, { env: { ...DISABLE_ON_FIRST_LOCK, DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "1" } });
    await t.createUser("root@example.com", RIGHT, "admin");
    await t.createUser("deputy@example.com", RIGHT, "admin");
    const blocker = new pg.Client({ connectionString: t.database.url });
    const observer = new pg.Client({ connectionString: t.database.url });
    await blocker.connect();
    await observer.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE events IN EXCLUSIVE MODE");
      const attempts = Promise.all([postLogin(t.app, "root@example.com", "guess"), postLogin(t.app, "deputy@example.com", "guess")]);
      try {
        await waitForBlockedBackends(observer, 2);
      } finally {
        await blocker.query("COMMIT");
      }
      expect((await attempts).map((r) => r.statusCode)).toEqual([401, 401]);
    } finally {
      await blocker.end();
      await observer.end();
    }
    const statuses = [await statusOf("root@example.com"), await statusOf("deputy@example.com")].map((s) => s.status).sort();
    expect(statuses).toEqual(["disabled", "locked"]);
  });
});

/**
 * Waits until `count` backends of this database wait on a lock (the attempts reached the insert).
 * `client` must not be inside a transaction: pg_stat_activity is a per-transaction snapshot.
 */
async function waitForBlockedBackends(client: pg.Client, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (Number(result.rows[0]?.n) >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${result.rows[0]?.n} of ${count} attempts reached the lock`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
