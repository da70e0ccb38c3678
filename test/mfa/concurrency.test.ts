/** Concurrent wrong codes cannot exceed DEADBOLT_MFA_THRESHOLD (the guard's slot reservation, SPEC rule 8). */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  enroll, eventsOf, expectGeneric401, failedLoginAnswer, me, PASSWORD, passwordStep, postMfa, viewOf, wrongCode,
} from "./helpers.ts";

describe.each(DIALECTS)("concurrent wrong codes (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("50 concurrent wrong codes on one mfaToken: exactly 5 counted, one lock, every answer the generic 401", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "5" } });
    const a = await enroll(t, "burst@example.com");
    const reference = await failedLoginAnswer(t);
    const mfaToken = await passwordStep(t, a.email);
    const code = wrongCode(t, a.secret);

    const answers = await Promise.all(Array.from({ length: 50 }, () => postMfa(t, mfaToken, code)));
    for (const answer of answers) expectGeneric401(answer, reference);

    const invalid = (await eventsOf(t, a.email, "login.failed")).filter((e) => e.details.reason === "mfa_invalid");
    expect(invalid).toHaveLength(5);
    expect(invalid.map((e) => e.details.failedAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
    const locked = await eventsOf(t, a.email, "account.locked");
    expect(locked).toHaveLength(1);
    expect(locked[0]!.details).toMatchObject({ factor: "mfa", failedAttempts: 5 });
    expect(await eventsOf(t, a.email, "login.failed").then((all) => all.every((e) => e.details.reason !== "throttled"))).toBe(true);

    const view = await viewOf(t, a.email);
    expect(view.status).toBe("locked");
    expect(view.lockReason).toBe("mfa");
    expect(view.failedMfaAttempts).toBe(5);
    expectGeneric401(await postLogin(t.app, a.email, PASSWORD), reference);
  });

  it("earlier failures count: with 2 already recorded, a burst adds exactly 3", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "5" } });
    const a = await enroll(t, "burst-prior@example.com");
    for (let i = 0; i < 2; i++) {
      expect((await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret))).statusCode).toBe(401);
    }
    const mfaToken = await passwordStep(t, a.email);
    const answers = await Promise.all(Array.from({ length: 30 }, () => postMfa(t, mfaToken, wrongCode(t, a.secret))));
    expect(answers.every((r) => r.statusCode === 401)).toBe(true);
    const invalid = (await eventsOf(t, a.email, "login.failed")).filter((e) => e.details.reason === "mfa_invalid");
    expect(invalid).toHaveLength(5);
    expect(await eventsOf(t, a.email, "account.locked")).toHaveLength(1);
    expect((await viewOf(t, a.email)).status).toBe("locked");
  });

  it("with the disable action, a burst disables once and never locks", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "5", DEADBOLT_MFA_LOCKOUT_ACTION: "disable" } });
    const a = await enroll(t, "burst-disable@example.com");
    const mfaToken = await passwordStep(t, a.email);
    const answers = await Promise.all(Array.from({ length: 50 }, () => postMfa(t, mfaToken, wrongCode(t, a.secret))));
    expect(answers.every((r) => r.statusCode === 401)).toBe(true);
    const invalid = (await eventsOf(t, a.email, "login.failed")).filter((e) => e.details.reason === "mfa_invalid");
    expect(invalid).toHaveLength(5);
    const disabled = await eventsOf(t, a.email, "account.disabled");
    expect(disabled).toHaveLength(1);
    expect(disabled[0]!.message).toContain("disabled after 5 failed 2FA attempts");
    expect(await eventsOf(t, a.email, "account.locked")).toHaveLength(0);
    expect((await viewOf(t, a.email)).disabledReason).toBe("mfa_failures");
    expect((await me(t, a.session)).statusCode).toBe(401);
  });
});
