import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser, enableUser } from "../../src/auth/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, eventTrail, me, MINUTE, signIn, viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const START = Date.parse("2026-11-22T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)("lockout policy through POST /api/auth/login (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function fail(email: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await postLogin(t.app, email, `guess-${i}`)).statusCode).toBe(401);
  }

  async function lockEvents(email: string) {
    return (await events(t, { type: "account.locked", email })).map((e) => e.details);
  }

  it("DEADBOLT_LOCKOUT_THRESHOLD=0: 30 wrong passwords never lock; the right one then signs in", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "0" } });
    await t.createUser("ann@example.com", RIGHT);
    await fail("ann@example.com", 30);
    const view = await viewOf(t, "ann@example.com");
    expect({ status: view.status, lockedUntil: view.lockedUntil, failures: view.failedPasswordAttempts }).toEqual({
      status: "active", lockedUntil: null, failures: 30,
    });
    expect(await lockEvents("ann@example.com")).toEqual([]);
    const last = (await events(t, { type: "login.failed" })).at(-1);
    expect(last?.message).toBe("wrong password (30 failed attempts)");
    expect((await postLogin(t.app, "ann@example.com", RIGHT)).statusCode).toBe(200);
  });

  it("backoff: consecutive locks last 1m, 3m, then 5m (capped), in events and in the admin view", async () => {
    t = await createTestApp(dialect, { env: {
      DEADBOLT_LOCKOUT_THRESHOLD: "2", DEADBOLT_LOCKOUT_DURATION: "1m", DEADBOLT_LOCKOUT_BACKOFF: "3", DEADBOLT_LOCKOUT_MAX_DURATION: "5m",
    } });
    await t.createUser("ann@example.com", RIGHT);
    const lengths: number[] = [];
    for (const [n, minutes] of [[1, 1], [2, 3], [3, 5], [4, 5]] as const) {
      const lockedAt = t.clock.now();
      await fail("ann@example.com", 2);
      const lockedUntil = iso(lockedAt + minutes * MINUTE);
      expect((await lockEvents("ann@example.com")).at(-1)).toEqual({
        factor: "password", failedAttempts: 2, lockedUntil, lockoutCount: n,
      });
      const view = await viewOf(t, "ann@example.com");
      expect({ status: view.status, lockedUntil: view.lockedUntil, lockReason: view.lockReason, lockoutCount: view.lockoutCount })
        .toEqual({ status: "locked", lockedUntil, lockReason: "password", lockoutCount: n });
      lengths.push(Date.parse(view.lockedUntil ?? "") - lockedAt);

      // Still locked one millisecond before the end, even for the right password.
      t.clock.advance(minutes * MINUTE - 1);
      expect((await postLogin(t.app, "ann@example.com", RIGHT)).statusCode).toBe(401);
      t.clock.advance(1);
      const after = await viewOf(t, "ann@example.com");
      expect({ status: after.status, failures: after.failedPasswordAttempts, lockoutCount: after.lockoutCount })
        .toEqual({ status: "active", failures: 0, lockoutCount: n });
    }
    expect(lengths).toEqual([1, 3, 5, 5].map((m) => m * MINUTE));
    const first = (await events(t, { type: "account.locked" }))[0];
    expect(first?.message).toBe("account locked until 2026-11-22T12:01:00Z after 2 failed password attempts");
  });

  it("window: failures older than DEADBOLT_LOCKOUT_WINDOW since the last one are forgotten", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3", DEADBOLT_LOCKOUT_WINDOW: "10m" } });
    await t.createUser("ann@example.com", RIGHT);
    await fail("ann@example.com", 2);
    t.clock.advance(10 * MINUTE);
    expect((await viewOf(t, "ann@example.com")).failedPasswordAttempts).toBe(0);
    await fail("ann@example.com", 2);
    expect((await viewOf(t, "ann@example.com")).status).toBe("active");
    // Less than a window after the last failure: the count goes on and the third locks.
    t.clock.advance(10 * MINUTE - 1);
    expect((await viewOf(t, "ann@example.com")).failedPasswordAttempts).toBe(2);
    await fail("ann@example.com", 1);
    expect(await lockEvents("ann@example.com")).toEqual([{
      factor: "password", failedAttempts: 3, lockedUntil: iso(t.clock.now() + 15 * MINUTE), lockoutCount: 1,
    }]);
  });

  it("a successful login resets the failure counter and the consecutive-lock count", async () => {
    t = await createTestApp(dialect, { env: {
      DEADBOLT_LOCKOUT_THRESHOLD: "3", DEADBOLT_LOCKOUT_DURATION: "1m", DEADBOLT_LOCKOUT_BACKOFF: "3",
    } });
    await t.createUser("ann@example.com", RIGHT);
    await fail("ann@example.com", 3);
    t.clock.advance(MINUTE);
    await fail("ann@example.com", 2);
    let view = await viewOf(t, "ann@example.com");
    expect({ failures: view.failedPasswordAttempts, lockoutCount: view.lockoutCount }).toEqual({ failures: 2, lockoutCount: 1 });

    await signIn(t, "ann@example.com", RIGHT);
    view = await viewOf(t, "ann@example.com");
    expect({ failures: view.failedPasswordAttempts, lockoutCount: view.lockoutCount, lastLoginAt: view.lastLoginAt })
      .toEqual({ failures: 0, lockoutCount: 0, lastLoginAt: iso(START + MINUTE) });
    await fail("ann@example.com", 2);
    expect((await viewOf(t, "ann@example.com")).status).toBe("active");
    await fail("ann@example.com", 1);
    // A first lock again: 1m, not 3m.
    expect((await lockEvents("ann@example.com")).at(-1)).toEqual({
      factor: "password", failedAttempts: 3, lockedUntil: iso(START + 2 * MINUTE), lockoutCount: 1,
    });
  });

  it("DEADBOLT_LOCKOUT_DISABLE_AFTER=2: the second consecutive lock disables (repeated_lockouts) and ends sessions", async () => {
    t = await createTestApp(dialect, { env: {
      DEADBOLT_LOCKOUT_THRESHOLD: "2", DEADBOLT_LOCKOUT_DURATION: "1m", DEADBOLT_LOCKOUT_DISABLE_AFTER: "2",
    } });
    const user = await t.createUser("ann@example.com", RIGHT);
    const tokens = [await signIn(t, "ann@example.com", RIGHT), await signIn(t, "ann@example.com", RIGHT)];
    await fail("ann@example.com", 2);
    expect((await viewOf(t, "ann@example.com")).status).toBe("locked");
    for (const token of tokens) expect((await me(t, token)).statusCode).toBe(200);
    t.clock.advance(MINUTE);
    await fail("ann@example.com", 2);

    const disabled = await events(t, { type: "account.disabled" });
    expect(disabled.map((e) => ({ userId: e.userId, details: e.details }))).toEqual([{
      userId: user.id, details: { reason: "repeated_lockouts", factor: "password", failedAttempts: 2, lockoutCount: 2 },
    }]);
    expect(disabled[0]?.message).toBe("account disabled after 2 consecutive lockouts (2 failed password attempts)");
    expect(disabled[0]?.message).not.toMatch(/locked/i);
    expect(await lockEvents("ann@example.com")).toHaveLength(1);

    for (const token of tokens) expect((await me(t, token)).statusCode).toBe(401);
    expect(await t.auth.database.db.selectFrom("sessions").select("token_hash").where("user_id", "=", user.id).execute()).toEqual([]);

    // Disabled stays disabled, however long one waits, until an admin enables it.
    t.clock.advance(48 * 60 * MINUTE);
    expect((await postLogin(t.app, "ann@example.com", RIGHT)).statusCode).toBe(401);
    const view = await viewOf(t, "ann@example.com");
    expect({ status: view.status, disabledReason: view.disabledReason, lockedUntil: view.lockedUntil, lockoutCount: view.lockoutCount })
      .toEqual({ status: "disabled", disabledReason: "repeated_lockouts", lockedUntil: null, lockoutCount: 2 });
    expect((await enableUser(t.auth, user.id, CLI_ACTOR)).ok).toBe(true);
    expect((await postLogin(t.app, "ann@example.com", RIGHT)).statusCode).toBe(200);
  });

  it("events: every outcome has SPEC's type, reason and details", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "2" } });
    const ann = await t.createUser("ann@example.com", RIGHT);
    const bob = await t.createUser("bob@example.com", RIGHT);
    expect((await disableUser(t.auth, bob.id, CLI_ACTOR)).ok).toBe(true);
    await signIn(t, "ann@example.com", RIGHT);
    await postLogin(t.app, "Nobody@Example.com", "guess");
    await fail("ann@example.com", 2);
    await postLogin(t.app, "ann@example.com", RIGHT);
    await postLogin(t.app, "bob@example.com", RIGHT);

    const outcomes = new Set(["login.succeeded", "login.failed", "account.locked"]);
    const seen = (await events(t)).filter((e) => outcomes.has(e.type))
      .map(({ type, userId, email, ip, message, details }) => ({ type, userId, email, ip, message, details }));
    const login = { factor: "password", via: "login", trustedDevice: false };
    expect(seen).toEqual([
      { type: "login.succeeded", userId: ann.id, email: "ann@example.com", ip: "127.0.0.1", message: "login succeeded", details: { via: "login" } },
      { type: "login.failed", userId: null, email: "nobody@example.com", ip: "127.0.0.1",
        message: "login failed: no account with this e-mail", details: { reason: "unknown_user", ...login } },
      { type: "login.failed", userId: ann.id, email: "ann@example.com", ip: "127.0.0.1",
        message: "wrong password (1 of 2 failed attempts)", details: { reason: "wrong_password", ...login, failedAttempts: 1, threshold: 2 } },
      { type: "login.failed", userId: ann.id, email: "ann@example.com", ip: "127.0.0.1",
        message: "wrong password (2 of 2 failed attempts)", details: { reason: "wrong_password", ...login, failedAttempts: 2, threshold: 2 } },
      { type: "account.locked", userId: ann.id, email: "ann@example.com", ip: "127.0.0.1",
        message: "account locked until 2026-11-22T12:15:00Z after 2 failed password attempts",
        details: { factor: "password", failedAttempts: 2, lockedUntil: "2026-11-22T12:15:00.000Z", lockoutCount: 1 } },
      { type: "login.failed", userId: ann.id, email: "ann@example.com", ip: "127.0.0.1",
        message: "login refused: account is locked until 2026-11-22T12:15:00Z", details: { reason: "locked", ...login } },
      { type: "login.failed", userId: bob.id, email: "bob@example.com", ip: "127.0.0.1",
        message: "login refused: account is disabled (admin)", details: { reason: "disabled", ...login } },
    ]);
    expect(await eventTrail(t, "bob@example.com")).toEqual(["user.created", "account.disabled:admin", "login.failed:disabled"]);
  });
});
