/** A TOTP code is accepted once (no step at or before the last accepted one); a recovery code works once. */
import { afterEach, describe, expect, it } from "vitest";
import { countUnusedRecoveryCodes } from "../../src/store/index.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  codeAt, enroll, eventsOf, expectGeneric401, failedLoginAnswer, passwordStep, postMfa, STEP_MS, viewOf,
} from "./helpers.ts";

describe.each(DIALECTS)("replay (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("the same TOTP code twice within one 30 s step: the second login is refused", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "twice@example.com");
    const reference = await failedLoginAnswer(t);
    const code = codeAt(t, a.secret);
    expect((await postMfa(t, await passwordStep(t, a.email), code)).statusCode).toBe(200);
    t.clock.advance(10_000); // still the same step
    expect(codeAt(t, a.secret)).toBe(code);
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), code), reference);
    const failed = await eventsOf(t, a.email, "login.failed");
    expect(failed.map((e) => e.details.reason)).toEqual(["mfa_invalid"]);
    // The next step's code is fine.
    t.clock.advance(STEP_MS);
    expect((await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret))).statusCode).toBe(200);
  });

  it("the confirmation code cannot be replayed to log in", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "confirm-replay@example.com");
    t.clock.advance(-STEP_MS); // back into the step whose code confirmed the enrolment
    expect((await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret))).statusCode).toBe(401);
  });

  it("a code of a step before the last accepted one is refused, though inside the window", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "earlier@example.com");
    const reference = await failedLoginAnswer(t);
    // The next step's code (clock drift +1) is accepted and becomes the last accepted step.
    expect((await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret, 1))).statusCode).toBe(200);
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret, 0)), reference);
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret, -1)), reference);
    expect((await viewOf(t, a.email)).failedMfaAttempts).toBe(2);
    t.clock.advance(2 * STEP_MS);
    expect((await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret))).statusCode).toBe(200);
  });

  it("two concurrent logins with the same code: exactly one succeeds", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "race-code@example.com");
    const tokens = await Promise.all([passwordStep(t, a.email), passwordStep(t, a.email), passwordStep(t, a.email)]);
    const code = codeAt(t, a.secret);
    const answers = await Promise.all(tokens.map((token) => postMfa(t, token, code)));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 401, 401]);
  });

  it("a recovery code works once; codes are case- and dash-insensitive", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "recovery@example.com");
    const reference = await failedLoginAnswer(t);
    const [first, second, third, fourth] = a.recoveryCodes as [string, string, string, string];

    const used = await postMfa(t, await passwordStep(t, a.email), first);
    expect(used.statusCode, used.body).toBe(200);
    expect(used.json().status).toBe("authenticated");
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), first), reference);

    expect((await postMfa(t, await passwordStep(t, a.email), second.toUpperCase())).statusCode).toBe(200);
    expect((await postMfa(t, await passwordStep(t, a.email), third.replace("-", ""))).statusCode).toBe(200);
    expect((await postMfa(t, await passwordStep(t, a.email), ` ${fourth.replace("-", " ").toUpperCase()} `)).statusCode).toBe(200);
    // Spent codes stay spent in any spelling.
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), second), reference);
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), third.toUpperCase()), reference);
    expectGeneric401(await postMfa(t, await passwordStep(t, a.email), first.replace("-", "").toUpperCase()), reference);

    expect(await countUnusedRecoveryCodes(t.auth.database.db, a.user.id)).toBe(6);
    const failed = await eventsOf(t, a.email, "login.failed");
    expect(failed.map((e) => e.details.reason)).toEqual(["mfa_invalid", "mfa_invalid", "mfa_invalid", "mfa_invalid"]);
  });

  it("the same recovery code on two concurrent logins: exactly one succeeds", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "race-recovery@example.com");
    const tokens = await Promise.all([passwordStep(t, a.email), passwordStep(t, a.email)]);
    const answers = await Promise.all(tokens.map((token) => postMfa(t, token, a.recoveryCodes[0]!)));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    expect(await countUnusedRecoveryCodes(t.auth.database.db, a.user.id)).toBe(9);
  });
});
