/** The second factor's own counter (SPEC lockout rules 1, 2, 5): it locks, survives correct passwords, ends pending tokens. */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  codeAt, enroll, eventsOf, expectGeneric401, failedLoginAnswer, me, MINUTE, PASSWORD, passwordStep, postMfa,
  viewOf, wrongCode, WRONG_PASSWORD,
} from "./helpers.ts";

describe.each(DIALECTS)("second-factor lockout (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("wrong codes spread over separate password logins reach the threshold and lock", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "3" } });
    const a = await enroll(t, "spread@example.com");
    const reference = await failedLoginAnswer(t);
    for (let i = 0; i < 3; i++) {
      const mfaToken = await passwordStep(t, a.email);
      // The correct password just now did not reset the second factor's counter.
      expect((await viewOf(t, a.email)).failedMfaAttempts, `before wrong code ${i + 1}`).toBe(i);
      expectGeneric401(await postMfa(t, mfaToken, wrongCode(t, a.secret)), reference);
      t.clock.advance(MINUTE);
    }
    const view = await viewOf(t, a.email);
    expect(view.status).toBe("locked");
    expect(view.lockReason).toBe("mfa");
    expect(view.disabledReason).toBeNull();
    expect(view.failedMfaAttempts).toBe(3);
    expect(view.failedPasswordAttempts).toBe(0);
    expect(Date.parse(view.lockedUntil!)).toBe(t.clock.now() - MINUTE + 15 * MINUTE);

    const failed = await eventsOf(t, a.email, "login.failed");
    expect(failed.map((e) => e.details.reason)).toEqual(["mfa_invalid", "mfa_invalid", "mfa_invalid"]);
    expect(failed.map((e) => e.details.failedAttempts)).toEqual([1, 2, 3]);
    for (const event of failed) expect(event.details).toMatchObject({ factor: "mfa", via: "mfa" });

    const locked = await eventsOf(t, a.email, "account.locked");
    expect(locked).toHaveLength(1);
    expect(locked[0]!.details).toMatchObject({ factor: "mfa", failedAttempts: 3, lockedUntil: view.lockedUntil, lockoutCount: 1 });
    expect(locked[0]!.message).toContain("2FA");
    expect(locked[0]!.message).toMatch(/locked until \S+ after 3 failed 2FA attempts/);
    expect(await eventsOf(t, a.email, "account.disabled")).toHaveLength(0);

    // Locked: the right password is refused with the same answer; a temporary lock keeps sessions.
    expectGeneric401(await postLogin(t.app, a.email, PASSWORD), reference);
    expect((await me(t, a.session)).statusCode).toBe(200);

    // Once the lock is over the user gets in with password and code, and starts afresh.
    t.clock.advance(15 * MINUTE);
    expect((await viewOf(t, a.email)).status).toBe("active");
    const mfaToken = await passwordStep(t, a.email);
    expect((await postMfa(t, mfaToken, codeAt(t, a.secret))).statusCode).toBe(200);
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(0);
  });

  it("a fully completed login resets both counters", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "3", DEADBOLT_LOCKOUT_THRESHOLD: "5" } });
    const a = await enroll(t, "reset@example.com");
    for (let i = 0; i < 2; i++) expect((await postLogin(t.app, a.email, WRONG_PASSWORD)).statusCode).toBe(401);
    for (let i = 0; i < 2; i++) {
      expect((await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret))).statusCode).toBe(401);
    }
    const before = await viewOf(t, a.email);
    expect([before.failedPasswordAttempts, before.failedMfaAttempts]).toEqual([2, 2]);

    expect((await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret))).statusCode).toBe(200);
    const after = await viewOf(t, a.email);
    expect([after.failedPasswordAttempts, after.failedMfaAttempts, after.lockoutCount]).toEqual([0, 0, 0]);

    // Proof that it was a reset: two more wrong codes do not reach the threshold of 3.
    t.clock.advance(30_000);
    for (let i = 0; i < 2; i++) {
      expect((await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret))).statusCode).toBe(401);
    }
    expect((await viewOf(t, a.email)).status).toBe("active");
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(2);
  });

  it("the counter resets after DEADBOLT_LOCKOUT_WINDOW without a failure", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "3", DEADBOLT_LOCKOUT_WINDOW: "10m" } });
    const a = await enroll(t, "window@example.com");
    for (let i = 0; i < 2; i++) {
      expect((await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret))).statusCode).toBe(401);
    }
    t.clock.advance(9 * MINUTE);
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(2);
    t.clock.advance(MINUTE);
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(0);
    expect((await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret))).statusCode).toBe(401);
    expect((await viewOf(t, a.email)).status).toBe("active");
  });

  it("an mfaToken issued before an mfa lock is refused afterwards, even after the lock expired", async () => {
    // A 1-minute lock ends well inside the 5-minute token lifetime.
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "3", DEADBOLT_LOCKOUT_DURATION: "1m" } });
    const a = await enroll(t, "pending@example.com");
    const reference = await failedLoginAnswer(t);
    const pending = await passwordStep(t, a.email);
    const attacker = await passwordStep(t, a.email);
    for (let i = 0; i < 3; i++) expectGeneric401(await postMfa(t, attacker, wrongCode(t, a.secret)), reference);
    expect((await viewOf(t, a.email)).status).toBe("locked");

    expectGeneric401(await postMfa(t, pending, codeAt(t, a.secret)), reference);
    t.clock.advance(MINUTE + 1_000);
    expect((await viewOf(t, a.email)).status).toBe("active");
    expectGeneric401(await postMfa(t, pending, codeAt(t, a.secret)), reference);
    expectGeneric401(await postMfa(t, attacker, codeAt(t, a.secret)), reference);
    expectGeneric401(await postMfa(t, pending, a.recoveryCodes[0]!), reference);
    // Guessing on a dead token does not even count.
    expectGeneric401(await postMfa(t, pending, wrongCode(t, a.secret)), reference);
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(0);

    // Control: the same code on a token issued after the lock works.
    const fresh = await passwordStep(t, a.email);
    expect((await postMfa(t, fresh, codeAt(t, a.secret))).statusCode).toBe(200);
  });

  it("a password lock also ends pending mfaTokens", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3", DEADBOLT_LOCKOUT_DURATION: "1m" } });
    const a = await enroll(t, "pending-pw@example.com");
    const reference = await failedLoginAnswer(t);
    const pending = await passwordStep(t, a.email);
    for (let i = 0; i < 3; i++) expect((await postLogin(t.app, a.email, WRONG_PASSWORD)).statusCode).toBe(401);
    expect((await viewOf(t, a.email)).lockReason).toBe("password");
    t.clock.advance(MINUTE + 1_000);
    expect((await viewOf(t, a.email)).status).toBe("active");
    expectGeneric401(await postMfa(t, pending, codeAt(t, a.secret)), reference);
    const fresh = await passwordStep(t, a.email);
    expect((await postMfa(t, fresh, codeAt(t, a.secret))).statusCode).toBe(200);
  });
});
