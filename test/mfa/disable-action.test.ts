/** DEADBOLT_MFA_LOCKOUT_ACTION=disable (SPEC lockout rules 5–7): disabled, sessions ended, honest words, last admin locked instead. */
import { afterEach, describe, expect, it } from "vitest";
import { disableUser, enableUser } from "../../src/auth/index.ts";
import type { StoredEvent } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import {
  codeAt, enroll, eventsOf, expectGeneric401, failedLoginAnswer, me, NO_CLIENT, PASSWORD, passwordStep, postMfa,
  signIn, STEP_MS, viewOf, wrongCode,
} from "./helpers.ts";

const DISABLE = { DEADBOLT_MFA_THRESHOLD: "3", DEADBOLT_MFA_LOCKOUT_ACTION: "disable" };
const ADMIN = { by: "admin" as const, email: "root@example.com", client: NO_CLIENT };

function describeEvent(e: StoredEvent): string {
  return `${e.type}: ${e.message} ${JSON.stringify(e.details)}`;
}

describe.each(DIALECTS)("2FA failures with the disable action (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("disables the account, ends its sessions and pending tokens, and never says locked", async () => {
    t = await createTestApp(dialect, { env: DISABLE });
    const a = await enroll(t, "victim@example.com");
    await t.createUser("bystander@example.com", PASSWORD);
    const bystander = await signIn(t, "bystander@example.com");
    const reference = await failedLoginAnswer(t);
    // A second session, from a complete two-step login, and a pending token.
    const completed = await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret));
    expect(completed.statusCode).toBe(200);
    const secondSession = completed.json().token as string;
    t.clock.advance(STEP_MS);
    const pending = await passwordStep(t, a.email);
    const episodeStart = (await eventsOf(t, a.email)).length;

    for (let i = 0; i < 3; i++) {
      expectGeneric401(await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret)), reference);
    }
    const view = await viewOf(t, a.email);
    expect(view.status).toBe("disabled");
    expect(view.disabledReason).toBe("mfa_failures");
    expect(view.lockReason).toBeNull();
    expect(view.lockedUntil).toBeNull();

    // Sessions of the user are ended; other users' are not.
    expect((await me(t, a.session)).statusCode).toBe(401);
    expect((await me(t, secondSession)).statusCode).toBe(401);
    expect((await me(t, bystander)).statusCode).toBe(200);
    const left = await t.auth.database.db.selectFrom("sessions").select("user_id").where("user_id", "=", a.user.id).execute();
    expect(left).toHaveLength(0);

    // The right password, and the right code on a token from before, get the generic answer.
    expectGeneric401(await postLogin(t.app, a.email, PASSWORD), reference);
    expectGeneric401(await postMfa(t, pending, codeAt(t, a.secret)), reference);
    t.clock.advance(60 * 60_000);
    expectGeneric401(await postLogin(t.app, a.email, PASSWORD), reference);

    const episode = (await eventsOf(t, a.email)).slice(episodeStart);
    const disabled = episode.filter((e) => e.type === "account.disabled");
    expect(disabled).toHaveLength(1);
    expect(disabled[0]!.details).toMatchObject({ reason: "mfa_failures", factor: "mfa", failedAttempts: 3 });
    expect(disabled[0]!.message).toContain("disabled after 3 failed 2FA attempts");
    expect(episode.filter((e) => e.type === "account.locked")).toHaveLength(0);
    expect(episode.filter((e) => e.details.reason === "mfa_invalid")).toHaveLength(3);
    expect(episode.filter((e) => e.type === "login.failed" && e.details.reason === "disabled")).toHaveLength(2);
    for (const event of episode) expect(describeEvent(event)).not.toMatch(/locked/i);
  });

  it("an admin enable restores the account: password and code work again", async () => {
    t = await createTestApp(dialect, { env: DISABLE });
    const a = await enroll(t, "restore@example.com");
    const pending = await passwordStep(t, a.email);
    for (let i = 0; i < 3; i++) {
      expect((await postMfa(t, await passwordStep(t, a.email), wrongCode(t, a.secret))).statusCode).toBe(401);
    }
    expect((await viewOf(t, a.email)).status).toBe("disabled");

    const enabled = await enableUser(t.auth, a.user.id, ADMIN);
    expect(enabled.ok).toBe(true);
    const view = await viewOf(t, a.email);
    expect(view.status).toBe("active");
    expect(view.disabledReason).toBeNull();
    expect(view.failedMfaAttempts).toBe(0);
    expect(view.mfaEnabled).toBe(true);
    const enabledEvents = await eventsOf(t, a.email, "account.enabled");
    expect(enabledEvents).toHaveLength(1);
    expect(enabledEvents[0]!.message).toContain("mfa_failures");

    // Sessions and a token from before the disable stay dead; a new login works.
    expect((await me(t, a.session)).statusCode).toBe(401);
    expect((await postMfa(t, pending, codeAt(t, a.secret))).statusCode).toBe(401);
    const done = await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret));
    expect(done.statusCode, done.body).toBe(200);
    expect((await me(t, done.json().token as string)).statusCode).toBe(200);
  });

  it("an admin disable also ends pending mfaTokens, for good", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "admin-disabled@example.com");
    const reference = await failedLoginAnswer(t);
    const pending = await passwordStep(t, a.email);
    expect((await disableUser(t.auth, a.user.id, ADMIN)).ok).toBe(true);
    expect((await enableUser(t.auth, a.user.id, ADMIN)).ok).toBe(true);
    expectGeneric401(await postMfa(t, pending, codeAt(t, a.secret)), reference);
    expect((await postMfa(t, await passwordStep(t, a.email), codeAt(t, a.secret))).statusCode).toBe(200);
  });

  it("the last active admin is locked instead of disabled, and keeps its sessions", async () => {
    t = await createTestApp(dialect, { env: DISABLE });
    const root = await enroll(t, "only-admin@example.com", "admin");
    for (let i = 0; i < 3; i++) {
      expect((await postMfa(t, await passwordStep(t, root.email), wrongCode(t, root.secret))).statusCode).toBe(401);
    }
    const view = await viewOf(t, root.email);
    expect(view.status).toBe("locked");
    expect(view.lockReason).toBe("mfa");
    expect(view.disabledReason).toBeNull();
    expect(await eventsOf(t, root.email, "account.disabled")).toHaveLength(0);
    const locked = await eventsOf(t, root.email, "account.locked");
    expect(locked).toHaveLength(1);
    expect(locked[0]!.details).toMatchObject({ factor: "mfa", failedAttempts: 3, insteadOfDisable: true });
    expect(locked[0]!.message).toMatch(/locked until \S+ after 3 failed 2FA attempts/);
    expect(locked[0]!.message).toContain("last active admin");
    // A temporary lock does not end sessions.
    expect((await me(t, root.session)).statusCode).toBe(200);
  });

  it("with another active admin, an admin is disabled like anyone else", async () => {
    t = await createTestApp(dialect, { env: DISABLE });
    await t.createUser("other-admin@example.com", PASSWORD, "admin");
    const root = await enroll(t, "admin-two@example.com", "admin");
    for (let i = 0; i < 3; i++) {
      expect((await postMfa(t, await passwordStep(t, root.email), wrongCode(t, root.secret))).statusCode).toBe(401);
    }
    const view = await viewOf(t, root.email);
    expect(view.status).toBe("disabled");
    expect(view.disabledReason).toBe("mfa_failures");
    expect((await me(t, root.session)).statusCode).toBe(401);
  });
});
