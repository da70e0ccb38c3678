/** The two-step login: password → mfa_required + mfaToken → code → session; every failure is the generic 401. */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  codeAt, enroll, eventsOf, expectGeneric401, failedLoginAnswer, me, MINUTE, PASSWORD, passwordStep, postMfa,
  STEP_MS, viewOf, wrongCode, WRONG_PASSWORD,
} from "./helpers.ts";

describe.each(DIALECTS)("login with a second factor (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("a correct password answers mfa_required with a token and no session", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "two-step@example.com");
    const response = await postLogin(t.app, a.email, PASSWORD);
    expect(response.statusCode).toBe(200);
    const body = response.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["mfaToken", "status"]);
    expect(body.status).toBe("mfa_required");
    expect(body.mfaToken).toEqual(expect.any(String));
    expect((body.mfaToken as string).length).toBeGreaterThanOrEqual(32);
    expect(response.headers["set-cookie"]).toBeUndefined();
    // The mfaToken is not a session.
    expect((await me(t, body.mfaToken as string)).statusCode).toBe(401);
    expect(await eventsOf(t, a.email, "login.succeeded")).toHaveLength(1); // only the sign-in before enrolment
    // Stored hashed, bound to the user.
    const stored = await t.auth.database.db.selectFrom("mfa_challenges").selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.user_id).toBe(a.user.id);
    expect(JSON.stringify(stored)).not.toContain(body.mfaToken as string);
  });

  it("the right code completes the login with a session cookie and a bearer token", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "complete@example.com");
    const mfaToken = await passwordStep(t, a.email);
    const done = await postMfa(t, mfaToken, codeAt(t, a.secret));
    expect(done.statusCode, done.body).toBe(200);
    const body = done.json() as { status: string; user: { id: string; email: string; role: string }; token: string };
    expect(body.status).toBe("authenticated");
    expect(body.user).toEqual({ id: a.user.id, email: a.email, role: "user" });
    const cookie = String(done.headers["set-cookie"]);
    expect(cookie).toContain(`deadbolt_session=${body.token}`);
    expect(cookie).toMatch(/HttpOnly/i);
    const session = await me(t, body.token);
    expect(session.statusCode).toBe(200);
    expect(session.json().user.email).toBe(a.email);
    const succeeded = await eventsOf(t, a.email, "login.succeeded");
    expect(succeeded.at(-1)!.details).toMatchObject({ via: "mfa" });
  });

  it("a wrong code, an unknown token and a garbage token answer byte-for-byte like a wrong password", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "generic@example.com");
    const wrongPassword = await failedLoginAnswer(t, a.email, WRONG_PASSWORD);
    const unknownUser = await failedLoginAnswer(t);
    expectGeneric401(unknownUser, wrongPassword);

    const mfaToken = await passwordStep(t, a.email);
    expectGeneric401(await postMfa(t, mfaToken, wrongCode(t, a.secret)), wrongPassword);
    expectGeneric401(await postMfa(t, randomBytes(32).toString("base64url"), codeAt(t, a.secret)), wrongPassword);
    expectGeneric401(await postMfa(t, "garbage-token-that-was-never-issued", codeAt(t, a.secret)), wrongPassword);
    // A wrong recovery code too.
    expectGeneric401(await postMfa(t, mfaToken, "aaaaa-bbbbb"), wrongPassword);
    // The token survived the typos: the right code still completes.
    expect((await postMfa(t, mfaToken, codeAt(t, a.secret))).statusCode).toBe(200);

    const reasons = (await eventsOf(t, a.email, "login.failed")).map((e) => e.details.reason);
    expect(reasons).toEqual(["wrong_password", "mfa_invalid", "mfa_invalid"]);
  });

  it("an unknown token counts against nobody", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "2" } });
    const a = await enroll(t, "nobody-counts@example.com");
    for (let i = 0; i < 4; i++) {
      expect((await postMfa(t, randomBytes(32).toString("base64url"), wrongCode(t, a.secret))).statusCode).toBe(401);
    }
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(0);
    expect((await viewOf(t, a.email)).status).toBe("active");
  });

  it("a malformed attempt is a 400 and counts as nothing", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "malformed@example.com");
    const mfaToken = await passwordStep(t, a.email);
    for (const payload of [{ mfaToken }, { code: "123456" }, { mfaToken, code: "" }, { mfaToken, code: "12<>56" }, { mfaToken: "", code: "123456" }]) {
      const response = await t.app.inject({ method: "POST", url: "/api/auth/login/mfa", payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(0);
    expect((await postMfa(t, mfaToken, codeAt(t, a.secret))).statusCode).toBe(200);
  });

  it("a used mfaToken cannot be used again", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "single-use@example.com");
    const reference = await failedLoginAnswer(t);
    const mfaToken = await passwordStep(t, a.email);
    expect((await postMfa(t, mfaToken, codeAt(t, a.secret))).statusCode).toBe(200);
    t.clock.advance(STEP_MS);
    // A fresh, valid code does not revive the spent token, nor does a recovery code.
    expectGeneric401(await postMfa(t, mfaToken, codeAt(t, a.secret)), reference);
    expectGeneric401(await postMfa(t, mfaToken, a.recoveryCodes[0]!), reference);
  });

  it("an mfaToken is bound to its user", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "alice@example.com");
    const b = await enroll(t, "bob@example.com");
    const aliceToken = await passwordStep(t, a.email);
    const withBobsCode = await postMfa(t, aliceToken, codeAt(t, b.secret));
    // Only meaningful when the two secrets' codes differ at this step.
    if (codeAt(t, b.secret) !== codeAt(t, a.secret)) expect(withBobsCode.statusCode).toBe(401);
    expect((await postMfa(t, aliceToken, b.recoveryCodes[0]!)).statusCode).toBe(401);
    const done = await postMfa(t, aliceToken, codeAt(t, a.secret));
    expect(done.statusCode).toBe(200);
    expect(done.json().user.email).toBe(a.email);
  });

  it("an mfaToken expires after 5 minutes", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "expiry@example.com");
    const reference = await failedLoginAnswer(t);

    const stillValid = await passwordStep(t, a.email);
    t.clock.advance(5 * MINUTE - 1_000);
    expect((await postMfa(t, stillValid, codeAt(t, a.secret))).statusCode).toBe(200);

    const expired = await passwordStep(t, a.email);
    t.clock.advance(5 * MINUTE + 1_000);
    expectGeneric401(await postMfa(t, expired, codeAt(t, a.secret)), reference);
    // An expired token is not an attempt on the account.
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(0);
  });
});
