/** Trusted devices through the HTTP API, on both dialects (SPEC "Trusted devices"). */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { createTestDatabase, DIALECTS } from "../support/databases.ts";
import { events, metricValue, MINUTE, viewOf } from "../http/helpers.ts";
import { attack, login, mailedToken, PASSWORD, trustedBrowser, WRONG } from "./support.ts";

const USER = "dana@example.com";
const THRESHOLD = 5;

describe.each(DIALECTS)("trusted devices (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("a full sign-in sets deadbolt_device (HttpOnly, SameSite=Lax, 400 days) and answers the same deviceToken", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    const answer = await login(t, USER, PASSWORD);
    expect(answer.status).toBe(200);
    expect(answer.body.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(answer.cookie?.value).toBe(answer.body.deviceToken);
    const attributes = answer.cookie!.attributes.split(/;\s*/);
    expect(attributes).toEqual(expect.arrayContaining(["Max-Age=34560000", "Path=/", "HttpOnly", "SameSite=Lax"]));
    expect(attributes).not.toContain("Secure");
    expect((await viewOf(t, USER)).trustedDevices).toBe(1);
    // Signing in again with it keeps the same token and the same device.
    const again = await login(t, USER, PASSWORD, { cookie: answer.cookie!.value });
    expect(again.body.deviceToken).toBe(answer.body.deviceToken);
    expect((await viewOf(t, USER)).trustedDevices).toBe(1);
    expect((await events(t, { type: "device.trusted" }))).toHaveLength(1);
    // Only the SHA-256 is stored.
    const stored = await t.auth.database.db.selectFrom("devices").select("token_hash").execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(answer.body.deviceToken);
  });

  it("the cookie is Secure when PUBLIC_URL is https", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_PUBLIC_URL: "https://auth.example.com" } });
    await t.createUser(USER, PASSWORD);
    expect((await login(t, USER, PASSWORD)).cookie!.attributes.split(/;\s*/)).toContain("Secure");
  });

  it("an account locked by an attacker still lets the user's trusted browser in, and nobody else", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    const browser = await trustedBrowser(t, USER);
    await attack(t, USER, THRESHOLD);
    const locked = await viewOf(t, USER);
    expect(locked.status).toBe("locked");
    // The trusted browser signs in, without resetting the untrusted counter or the lock.
    expect((await login(t, USER, PASSWORD, { cookie: browser })).status).toBe(200);
    const after = await viewOf(t, USER);
    expect(after).toMatchObject({ status: "locked", lockedUntil: locked.lockedUntil, failedPasswordAttempts: THRESHOLD, lockoutCount: 1 });
    // A browser that was never trusted, and an API client with a made-up token, are refused.
    expect((await login(t, USER, PASSWORD)).status).toBe(401);
    expect((await login(t, USER, PASSWORD, { deviceToken: "x".repeat(43) })).status).toBe(401);
    const refused = (await events(t, { type: "login.failed" })).filter((e) => e.details.reason === "locked");
    expect(refused.map((e) => e.details.trustedDevice)).toEqual([false, false]);
    const wrong = (await events(t, { type: "login.failed" })).filter((e) => e.details.reason === "wrong_password");
    expect(wrong.every((e) => e.details.trustedDevice === false)).toBe(true);
  });

  it("an API client sends deviceToken back in the body; one browser can be trusted by several users", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    await t.createUser("erin@example.com", PASSWORD);
    const first = await login(t, USER, PASSWORD);
    const token = first.body.deviceToken as string;
    const second = await login(t, "erin@example.com", PASSWORD, { deviceToken: token });
    expect(second.body.deviceToken).toBe(token);
    await attack(t, USER, THRESHOLD);
    await attack(t, "erin@example.com", THRESHOLD);
    expect((await login(t, USER, PASSWORD, { deviceToken: token })).status).toBe(200);
    expect((await login(t, "erin@example.com", PASSWORD, { cookie: token })).status).toBe(200);
  });

  it("wrong passwords from a trusted device lock that device only; the account stays open", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    const browser = await trustedBrowser(t, USER);
    for (let i = 0; i < THRESHOLD; i++) expect((await login(t, USER, WRONG, { cookie: browser })).status).toBe(401);
    const view = await viewOf(t, USER);
    expect(view).toMatchObject({ status: "active", failedPasswordAttempts: 0, lockoutCount: 0 });
    const locked = await events(t, { type: "device.locked" });
    expect(locked).toHaveLength(1);
    expect(locked[0]!.message).toMatch(/trusted device locked until .* after 5 failed password attempts/);
    const failures = (await events(t, { type: "login.failed" }));
    expect(failures.map((e) => e.details.trustedDevice)).toEqual(Array(THRESHOLD).fill(true));
    // The locked device is refused without a verification, even with the right password.
    const real = async () => metricValue(await t.metrics.registry.metrics(), "deadbolt_password_verifications_total", { kind: "real" });
    const before = await real();
    expect((await login(t, USER, PASSWORD, { cookie: browser })).status).toBe(401);
    expect(await real()).toBe(before);
    expect((await events(t, { type: "login.failed" })).at(-1)!.details).toMatchObject({ reason: "locked", lockedBy: "device", trustedDevice: true });
    // Dropping the cookie makes it an untrusted client, and the account is not locked.
    expect((await login(t, USER, PASSWORD)).status).toBe(200);
    // The device lock ends after the lock duration with a fresh counter.
    t.clock.advance(15 * MINUTE);
    expect((await login(t, USER, PASSWORD, { cookie: browser })).status).toBe(200);
  });

  it("redeeming an unlock link trusts that browser, which then signs in while the attack goes on", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    await attack(t, USER, THRESHOLD);
    const token = await mailedToken(t, USER, "unlock");
    const unlocked = await t.app.inject({ method: "POST", url: "/api/auth/unlock", payload: { token } });
    expect(unlocked.statusCode).toBe(204);
    const cookie = unlocked.cookies.find((c) => c.name === "deadbolt_device");
    expect(cookie?.httpOnly).toBe(true);
    await attack(t, USER, THRESHOLD);
    expect((await viewOf(t, USER)).status).toBe("locked");
    expect((await login(t, USER, PASSWORD, { cookie: cookie!.value })).status).toBe(200);
    expect((await login(t, USER, PASSWORD)).status).toBe(401);
    expect((await events(t, { type: "device.trusted" })).map((e) => e.details.via)).toEqual(["unlock_link"]);
  });

  it("a password reset trusts the browser that redeemed it and forgets every other device", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    const old = await trustedBrowser(t, USER);
    const resetter = await trustedBrowser(t, USER);
    await trustedBrowser(t, USER);
    expect((await viewOf(t, USER)).trustedDevices).toBe(3);
    const token = await mailedToken(t, USER, "reset");
    const reset = await t.app.inject({
      method: "POST", url: "/api/auth/password/reset", payload: { token, password: "another long passphrase" },
      headers: { cookie: `deadbolt_device=${resetter}` },
    });
    expect(reset.statusCode).toBe(204);
    expect((await viewOf(t, USER)).trustedDevices).toBe(1);
    const forgotten = await events(t, { type: "device.forgotten" });
    expect(forgotten.map((e) => e.details)).toEqual([expect.objectContaining({ by: "password_reset", count: 2 })]);
    await attack(t, USER, THRESHOLD);
    expect((await login(t, USER, "another long passphrase", { cookie: resetter })).status).toBe(200);
    expect((await login(t, USER, "another long passphrase", { cookie: old })).status).toBe(401);
  });

  it("a disable applies to trusted devices too", async () => {
    t = await createTestApp(dialect);
    const user = await t.createUser(USER, PASSWORD);
    const browser = await trustedBrowser(t, USER);
    await t.auth.database.db.updateTable("users").set({ disabled_reason: "admin" }).where("id", "=", user.id).execute();
    expect((await login(t, USER, PASSWORD, { cookie: browser })).status).toBe(401);
    expect((await events(t, { type: "login.failed" })).at(-1)!.details).toMatchObject({ reason: "disabled", trustedDevice: true, lockedBy: "account" });
  });

  it("DEADBOLT_DEVICE_TRUST=off restores plain per-account lockout", async () => {
    const database = await createTestDatabase(dialect);
    try {
      t = await createTestApp(dialect, { database });
      await t.createUser(USER, PASSWORD);
      const browser = await trustedBrowser(t, USER);
      await t.close();
      t = await createTestApp(dialect, { database, env: { DEADBOLT_DEVICE_TRUST: "off" } });
      const answer = await login(t, USER, PASSWORD, { cookie: browser });
      expect(answer.status).toBe(200);
      expect(answer.body.deviceToken).toBeUndefined();
      expect(answer.cookie).toBeNull();
      // The device once trusted counts on the account's counter and the lock stops it.
      for (let i = 0; i < THRESHOLD; i++) expect((await login(t, USER, WRONG, { cookie: browser })).status).toBe(401);
      expect((await viewOf(t, USER)).status).toBe("locked");
      expect((await login(t, USER, PASSWORD, { cookie: browser })).status).toBe(401);
      expect((await events(t, { type: "device.locked" }))).toHaveLength(0);
    } finally {
      await t.close();
      t = undefined as unknown as TestApp;
      await database.drop();
    }
  });
});
