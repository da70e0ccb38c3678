/**
 * SPEC "Trusted devices" through the library (`client.deviceToken`, `onDeviceToken`,
 * `forgetDevices`): whoever knows an account key cannot keep its owner out. The account's lock
 * stops untrusted clients only; a trusted device has its own counter and its own lock.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLockout, LockoutUsageError, type Lockout } from "../../src/index.ts";
import { createClock } from "../support/app.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const MINUTE = 60_000;
const POLICY = { threshold: 3, windowMs: 10 * MINUTE, durationMs: 15 * MINUTE };
const RIGHT = "right password";

describe.each(DIALECTS)("createLockout with trusted devices (%s)", (dialect) => {
  let database: TestDatabase;
  let lockout: Lockout;
  const clock = createClock();
  let verifications = 0;

  const attempt = (account: string, password: string, deviceToken?: string | null, onDeviceToken?: (token: string) => void) =>
    lockout.attempt({
      account,
      verify: () => {
        verifications++;
        return password === RIGHT;
      },
      client: { ip: "203.0.113.9", userAgent: "devices-test", deviceToken },
      ...(onDeviceToken ? { onDeviceToken } : {}),
    });

  /** A full sign-in that trusts the client; resolves to the token it was handed. */
  async function trust(account: string, presented?: string): Promise<string> {
    const handed: string[] = [];
    expect(await attempt(account, RIGHT, presented, (token) => handed.push(token))).toBe("verified");
    expect(handed).toHaveLength(1);
    return handed[0] ?? "";
  }

  async function lockForUntrusted(account: string): Promise<void> {
    for (let i = 0; i < POLICY.threshold; i++) expect(await attempt(account, `attacker guess ${i}`)).toBe("failed");
    expect(await lockout.status(account)).toMatchObject({ status: "locked", lockoutCount: 1 });
  }

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    lockout = createLockout({ databaseUrl: database.url, policy: POLICY, now: clock.now });
  });

  afterAll(async () => {
    await lockout.close();
    await database.drop();
  });

  it("a verified sign-in hands back a 256-bit token; presenting it again keeps the same one", async () => {
    const token = await trust("ada");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await trust("ada", token), "one browser keeps one token").toBe(token);
    const trusted = await lockout.events({ account: "ada", type: "device.trusted" });
    expect(trusted, "trusted once, not on every sign-in").toHaveLength(1);
    // Failures and refusals hand back nothing.
    const handed: string[] = [];
    expect(await attempt("ada", "wrong", token, (t) => handed.push(t))).toBe("failed");
    expect(handed).toEqual([]);
  });

  it("while an attacker without a token locks the account, the trusted token still gets verified", async () => {
    const account = "bob";
    const token = await trust(account);
    await lockForUntrusted(account);
    verifications = 0;
    expect(await attempt(account, RIGHT), "an untrusted client is refused, even with the right password").toBe("refused");
    expect(verifications).toBe(0);
    expect(await attempt(account, RIGHT, token)).toBe("verified");
    expect(verifications).toBe(1);
    // The owner's sign-in hands the attacker no fresh guesses: the untrusted lock runs its course.
    expect(await lockout.status(account)).toMatchObject({ status: "locked", failedAttempts: POLICY.threshold, lockoutCount: 1 });
    const [succeeded] = await lockout.events({ account, type: "login.succeeded" });
    expect(succeeded?.details).toMatchObject({ trustedDevice: true });
  });

  it("a bad, forged or another account's token counts as untrusted", async () => {
    const account = "carol";
    await trust(account);
    const othersToken = await trust("someone-else");
    await lockForUntrusted(account);
    const forged = randomBytes(32).toString("base64url");
    verifications = 0;
    for (const token of ["not a token", "", forged, othersToken, `${forged}x`]) {
      expect(await attempt(account, RIGHT, token), JSON.stringify(token)).toBe("refused");
    }
    expect(verifications).toBe(0);
    // And before the lock, such a token's failures count on the account's own counter.
    const fresh = "carol-2";
    await trust(fresh);
    expect(await attempt(fresh, "wrong", forged)).toBe("failed");
    expect(await attempt(fresh, "wrong", othersToken)).toBe("failed");
    expect((await lockout.status(fresh)).failedAttempts).toBe(2);
  });

  it("a trusted device reaching the threshold is refused itself; the account is not locked for other devices", async () => {
    const account = "dave";
    const laptop = await trust(account);
    const phone = await trust(account, randomBytes(32).toString("base64url"));
    for (let i = 0; i < POLICY.threshold; i++) expect(await attempt(account, `typo ${i}`, laptop)).toBe("failed");
    verifications = 0;
    expect(await attempt(account, RIGHT, laptop), "the locked device runs no verification").toBe("refused");
    expect(verifications).toBe(0);
    expect(await lockout.status(account)).toMatchObject({ status: "active", failedAttempts: 0, lockoutCount: 0 });
    expect(await attempt(account, RIGHT, phone)).toBe("verified");
    expect(await attempt(account, RIGHT), "nor for untrusted clients").toBe("verified");
    const [locked] = await lockout.events({ account, type: "device.locked" });
    expect(locked?.message).toMatch(/the account is not locked/);
    expect(await lockout.events({ account, type: "account.locked" })).toEqual([]);
    // The device's lock ends after the lock duration with a fresh set of attempts.
    clock.advance(POLICY.durationMs);
    expect(await attempt(account, RIGHT, laptop)).toBe("verified");
  });

  it("the second factor passes on a trusted device while the account is locked for untrusted clients", async () => {
    const account = "erin";
    const token = await trust(account);
    await lockForUntrusted(account);
    const client = { ip: null, userAgent: null, deviceToken: token };
    expect(await lockout.attempt({ account, verify: () => true, client, signIn: "needs_second_factor" })).toBe("verified");
    expect(await lockout.attempt({ account, verify: () => true, client, factor: "mfa" })).toBe("verified");
    expect(await lockout.attempt({ account, verify: () => true, factor: "mfa" }), "not without the device").toBe("refused");
  });

  it("forgetDevices forgets all but the kept one: a forgotten token is an untrusted client again", async () => {
    const account = "frank";
    const old = await trust(account);
    const kept = await trust(account, randomBytes(32).toString("base64url"));
    await lockForUntrusted(account);
    expect(await lockout.forgetDevices(account, { by: "password_reset", keepDeviceToken: kept })).toBe(1);
    expect(await attempt(account, RIGHT, old)).toBe("refused");
    expect(await attempt(account, RIGHT, kept)).toBe("verified");
    expect(await lockout.forgetDevices(account, { by: "admin", actor: "ops@example.com" })).toBe(1);
    expect(await attempt(account, RIGHT, kept)).toBe("refused");
    const [forgotten] = await lockout.events({ account, type: "device.forgotten" });
    expect(forgotten?.details).toMatchObject({ by: "admin", actor: "ops@example.com", count: 1 });
    expect(await lockout.forgetDevices("never-seen", { by: "user" })).toBe(0);
    await expect(lockout.forgetDevices(account, { by: "nobody" } as never)).rejects.toThrow(LockoutUsageError);
  });

  it("redeeming the app's unlock link trusts the client: the attacker re-locking the account does not lock it out", async () => {
    const account = "heidi";
    await lockForUntrusted(account);
    const handed: string[] = [];
    const unlocked = await lockout.unlock(account, { by: "token", client: { ip: "198.51.100.20" }, onDeviceToken: (t) => handed.push(t) });
    expect(unlocked.status).toBe("active");
    expect(handed).toHaveLength(1);
    const [trusted] = await lockout.events({ account, type: "device.trusted" });
    expect(trusted).toMatchObject({ ip: "198.51.100.20", details: { via: "unlock_link" } });
    clock.advance(POLICY.windowMs);
    await lockForUntrusted(account);
    expect(await attempt(account, RIGHT, handed[0])).toBe("verified");
    // An admin's unlock trusts nobody's browser.
    const admins: string[] = [];
    await lockout.unlock(account, { by: "admin", actor: "ops@example.com", onDeviceToken: (t) => admins.push(t) });
    expect(admins).toEqual([]);
  });

  it("a password reset forgets every other device and trusts the resetting client", async () => {
    const account = "ivan";
    const stolen = await trust(account);
    const mine = randomBytes(32).toString("base64url");
    const handed: string[] = [];
    await lockout.unlock(account, { by: "password_reset", client: { deviceToken: mine }, onDeviceToken: (t) => handed.push(t) });
    expect(handed, "the client keeps the token it presented").toEqual([mine]);
    await lockForUntrusted(account);
    expect(await attempt(account, RIGHT, stolen), "the other device is forgotten").toBe("refused");
    expect(await attempt(account, RIGHT, mine)).toBe("verified");
    const [forgotten] = await lockout.events({ account, type: "device.forgotten" });
    expect(forgotten?.details).toMatchObject({ by: "password_reset", count: 1 });
  });

  it("deviceTrust: false is plain per-account lockout: no token is handed out or honoured", async () => {
    const plain = createLockout({ databaseUrl: database.url, policy: POLICY, now: clock.now, deviceTrust: false });
    try {
      const account = "grace";
      const token = await trust(account);
      const handed: string[] = [];
      expect(await plain.attempt({ account, verify: () => true, onDeviceToken: (t) => handed.push(t) })).toBe("verified");
      expect(handed).toEqual([]);
      await lockForUntrusted(account);
      expect(await plain.attempt({ account, verify: () => true, client: { deviceToken: token } })).toBe("refused");
    } finally {
      await plain.close();
    }
    expect(() => createLockout({ databaseUrl: database.url, deviceTrust: "yes" as never })).toThrow(/deviceTrust must be true or false/);
  });
});

describe("trusted devices over the app's own pg pool (postgres)", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
  });

  afterAll(async () => {
    await database.drop();
  });

  it("the device's counter and lock work with BIGINTs as the app's pool returns them", async () => {
    const pool = new pg.Pool({ connectionString: database.url });
    const lockout = createLockout({ db: pool, policy: { threshold: 2 } });
    try {
      let token = "";
      expect(await lockout.attempt({ account: "u1", verify: () => true, onDeviceToken: (t) => { token = t; } })).toBe("verified");
      for (let i = 0; i < 2; i++) expect(await lockout.attempt({ account: "u1", verify: () => false, client: { deviceToken: token } })).toBe("failed");
      expect(await lockout.attempt({ account: "u1", verify: () => true, client: { deviceToken: token } })).toBe("refused");
      expect(await lockout.attempt({ account: "u1", verify: () => true })).toBe("verified");
      for (let i = 0; i < 2; i++) expect(await lockout.attempt({ account: "u2", verify: () => false })).toBe("failed");
      expect((await lockout.status("u2")).status).toBe("locked");
    } finally {
      await lockout.close();
      await pool.end();
    }
  });
});
