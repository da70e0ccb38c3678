import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, unlockUser } from "../../src/auth/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, eventTrail, me, SPEC_FAILURE_MESSAGE, signIn, viewOf } from "./helpers.ts";

const OLD = "old-password";
const NEW = "amber kettle on a windy ridge";
const EMAIL = "ann@example.com";

describe.each(DIALECTS)("POST /api/auth/password/change (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  function change(token: string | null, payload: unknown) {
    return t.app.inject({
      method: "POST",
      url: "/api/auth/password/change",
      payload: JSON.stringify(payload),
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    });
  }

  it("a wrong current password is a generic 401 that counts: three lock the account until it is unlocked", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    const user = await t.createUser(EMAIL, OLD);
    const token = await signIn(t, EMAIL, OLD);

    for (let i = 1; i <= 3; i++) {
      const response = await change(token, { currentPassword: `guess-${i}`, newPassword: NEW });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: "invalid_credentials", message: SPEC_FAILURE_MESSAGE });
      if (i < 3) expect((await viewOf(t, EMAIL)).failedPasswordAttempts).toBe(i);
    }
    const failed = await events(t, { type: "login.failed" });
    expect(failed.map((e) => e.details)).toEqual([1, 2, 3].map((n) => ({
      reason: "wrong_password", factor: "password", via: "password_change", failedAttempts: n, threshold: 3, trustedDevice: false,
    })));
    const view = await viewOf(t, EMAIL);
    expect({ status: view.status, lockedUntil: view.lockedUntil }).toEqual({ status: "locked", lockedUntil: "2026-11-22T12:15:00.000Z" });

    // Locked: the right password works neither for login nor for a change, but the session survives.
    expect((await postLogin(t.app, EMAIL, OLD)).statusCode).toBe(401);
    expect((await change(token, { currentPassword: OLD, newPassword: NEW })).statusCode).toBe(401);
    expect((await me(t, token)).statusCode).toBe(200);
    expect((await postLogin(t.app, EMAIL, NEW)).statusCode).toBe(401);

    expect((await unlockUser(t.auth, user.id, CLI_ACTOR)).ok).toBe(true);
    expect((await postLogin(t.app, EMAIL, OLD)).statusCode).toBe(200);
  });

  it("a weak new password is 400 weak_password and changes nothing", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    await t.createUser(EMAIL, OLD);
    const token = await signIn(t, EMAIL, OLD);
    for (const currentPassword of [OLD, "guess"]) {
      const response = await change(token, { currentPassword, newPassword: "short" });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: "weak_password",
        message: "The password must be at least 8 characters (a passphrase of a few words is long and easy to remember).",
      });
    }
    expect((await viewOf(t, EMAIL)).failedPasswordAttempts).toBe(0);
    expect((await postLogin(t.app, EMAIL, OLD)).statusCode).toBe(200);
  });

  it("success: 204, the old password fails, the new one works, other sessions end, this one stays", async () => {
    t = await createTestApp(dialect);
    const user = await t.createUser(EMAIL, OLD);
    const current = await signIn(t, EMAIL, OLD);
    const others = [await signIn(t, EMAIL, OLD), await signIn(t, EMAIL, OLD)];
    await t.createUser("bob@example.com", OLD);
    const bystanderToken = await signIn(t, "bob@example.com", OLD);

    const response = await change(current, { currentPassword: OLD, newPassword: NEW });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe("");

    expect((await me(t, current)).statusCode).toBe(200);
    for (const token of others) expect((await me(t, token)).statusCode).toBe(401);
    expect((await me(t, bystanderToken)).statusCode).toBe(200);
    expect((await postLogin(t.app, EMAIL, OLD)).statusCode).toBe(401);
    expect((await postLogin(t.app, EMAIL, NEW)).statusCode).toBe(200);
    expect((await postLogin(t.app, "bob@example.com", OLD)).statusCode).toBe(200);

    const changed = await events(t, { type: "password.changed" });
    expect(changed.map((e) => ({ userId: e.userId, message: e.message }))).toEqual([
      { userId: user.id, message: "password changed by the user; other sessions ended" },
    ]);
  });

  it("needs a session (401 unauthenticated); a malformed body is 400 and counts as nothing", async () => {
    t = await createTestApp(dialect);
    await t.createUser(EMAIL, OLD);
    const anonymous = await change(null, { currentPassword: OLD, newPassword: NEW });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ error: "unauthenticated", message: "Sign in first." });

    const token = await signIn(t, EMAIL, OLD);
    for (const payload of [{ currentPassword: OLD }, { newPassword: NEW }, { currentPassword: "", newPassword: NEW }, { currentPassword: { x: 1 }, newPassword: NEW }]) {
      const response = await change(token, payload);
      expect(response.statusCode).toBe(400);
      expect((response.json() as { error: string }).error).toBe("invalid_request");
    }
    expect(await eventTrail(t, EMAIL)).toEqual(["user.created", "login.succeeded", "device.trusted"]);
    expect((await viewOf(t, EMAIL)).failedPasswordAttempts).toBe(0);
    expect((await postLogin(t.app, EMAIL, OLD)).statusCode).toBe(200);
  });
});
