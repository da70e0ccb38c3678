import { afterEach, describe, expect, it } from "vitest";
import { login } from "../../src/auth/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { events } from "../http/helpers.ts";
import { bearer, codeAt, enroll, PASSWORD as MFA_PASSWORD } from "../mfa/helpers.ts";
import { createHarness, failLogins, outbox, PASSWORD, postForm, postJson, THRESHOLD, type Harness } from "./harness.ts";
import { tokenIn } from "./smtp.ts";

const USER = "gina@example.com";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const FROM = { "user-agent": FIREFOX };

/** Every notice must say what happened, when, from where (in words) and what to do if it was not you. */
function expectOrigin(text: string, ip: string): void {
  expect(text).toContain("When:            2026-11-22 ");
  expect(text).toContain(`IP address:      ${ip}`);
  expect(text).toContain("Browser and OS:  Firefox 133 on Windows 10");
  expect(text).toContain("If this was not you");
}

describe.each(DIALECTS)("notices nobody can silence (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("/forgot spam cannot suppress the lock notice: it arrives over SMTP with its unlock link", async () => {
    // The defaults: 3 security notices and 3 reset mails per user per hour.
    h = await createHarness(dialect, { env: { DEADBOLT_NOTIFY_MAX_PER_HOUR: "3", DEADBOLT_RESET_MAX_PER_HOUR: "3" } });
    await h.t.createUser(USER, PASSWORD);
    for (let i = 0; i < 10; i++) expect((await postJson(h.t, "/api/auth/password/forgot", { email: USER })).statusCode).toBe(202);
    for (let i = 0; i < 10; i++) expect((await postForm(h.t, "/forgot", { email: USER })).statusCode).toBe(200);
    await failLogins(h.t, USER, THRESHOLD);
    await h.drain();
    const mails = h.smtp.to(USER);
    expect(mails.filter((m) => m.subject === "Reset your password")).toHaveLength(3);
    const lock = mails.find((m) => m.subject.startsWith("Your account is locked until"));
    expect(lock, mails.map((m) => m.subject).join(", ")).toBeDefined();
    // The link in it works.
    expect((await postJson(h.t, "/api/auth/unlock", { token: tokenIn(lock, "unlock") })).statusCode).toBe(204);
    const suppressed = await events(h.t, { type: "notification.suppressed", email: USER });
    expect(suppressed).toHaveLength(17);
    expect(suppressed.every((e) => e.details.kind === "password_reset")).toBe(true);
  });

  it("sign-ins from new devices use up the security budget for each other, never for the lock notice", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_NOTIFY_MAX_PER_HOUR: "3" } });
    await h.t.createUser(USER, PASSWORD);
    // An API client that never sends its deviceToken back is a new device at every sign-in.
    for (let i = 0; i < 5; i++) {
      expect((await postJson(h.t, "/api/auth/login", { email: USER, password: PASSWORD })).statusCode).toBe(200);
    }
    await failLogins(h.t, USER, THRESHOLD);
    await h.drain();
    const subjects = h.smtp.to(USER).map((m) => m.subject);
    expect(subjects.filter((s) => s.startsWith("Your account is locked until")), subjects.join(", ")).toHaveLength(1);
    expect(subjects).toHaveLength(4);
    const suppressed = await events(h.t, { type: "notification.suppressed", email: USER });
    expect(suppressed.map((e) => e.details.kind)).toEqual(["new_device_sign_in", "new_device_sign_in"]);
  });

  it("a password change and a password reset are each mailed, saying when, from where and what to do", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const signedIn = await h.t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: USER, password: PASSWORD } });
    const token = (signedIn.json() as { token: string }).token;
    const changed = await h.t.app.inject({
      method: "POST", url: "/api/auth/password/change", remoteAddress: "203.0.113.77",
      headers: { ...bearer(token), ...FROM }, payload: { currentPassword: PASSWORD, newPassword: "an entirely new passphrase" },
    });
    expect(changed.statusCode, changed.body).toBe(204);
    await h.drain();
    // The sign-in itself came from a new device (its own notice); the change is the next mail.
    const change = h.smtp.to(USER).find((m) => m.subject === "Your password was changed");
    expect(change).toBeDefined();
    expect(change!.text).toContain("was changed by you (signed in)");
    expectOrigin(change!.text, "203.0.113.77");
    expect(change!.html).toContain("Browser and OS: Firefox 133 on Windows 10");

    await postJson(h.t, "/api/auth/password/forgot", { email: USER });
    await h.drain();
    const resetLink = tokenIn(h.smtp.to(USER).at(-1), "reset");
    const reset = await h.t.app.inject({
      method: "POST", url: "/api/auth/password/reset", remoteAddress: "198.51.100.4", headers: FROM,
      payload: { token: resetLink, password: "yet another new passphrase" },
    });
    expect(reset.statusCode, reset.body).toBe(204);
    await h.drain();
    const done = h.smtp.to(USER).at(-1)!;
    expect(done.subject).toBe("Your password was reset");
    expect(done.text).toContain("was reset with a password-reset link mailed to you");
    expectOrigin(done.text, "198.51.100.4");
  });

  it("two-step verification turned on and off, and a recovery code used (with how many are left), are mailed", async () => {
    h = await createHarness(dialect);
    const enrolled = await enroll(h.t, USER);
    await h.drain();
    const on = h.smtp.to(USER).find((m) => m.subject === "Two-step verification was turned on");
    expect(on).toBeDefined();
    expect(on!.text).toContain("If this was not you");

    const step = await h.t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: USER, password: MFA_PASSWORD } });
    const mfaToken = (step.json() as { mfaToken: string }).mfaToken;
    const withCode = await h.t.app.inject({
      method: "POST", url: "/api/auth/login/mfa", remoteAddress: "192.0.2.44", headers: FROM,
      payload: { mfaToken, code: enrolled.recoveryCodes[0] },
    });
    expect(withCode.statusCode, withCode.body).toBe(200);
    await h.drain();
    // This sign-in also came from a new device, which has its own notice.
    const used = h.smtp.to(USER).find((m) => m.subject.startsWith("A recovery code was used"))!;
    expect(used.subject).toBe("A recovery code was used to sign in (9 left)");
    expectOrigin(used.text, "192.0.2.44");

    // A TOTP code from the device now trusted sends nothing.
    const before = h.smtp.to(USER).length;
    const deviceToken = (withCode.json() as { deviceToken: string }).deviceToken;
    const again = await h.t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: USER, password: MFA_PASSWORD, deviceToken } });
    const totp = await h.t.app.inject({
      method: "POST", url: "/api/auth/login/mfa",
      payload: { mfaToken: (again.json() as { mfaToken: string }).mfaToken, code: codeAt(h.t, enrolled.secret), deviceToken },
    });
    expect(totp.statusCode).toBe(200);
    await h.drain();
    expect(h.smtp.to(USER)).toHaveLength(before);

    const off = await h.t.app.inject({
      method: "DELETE", url: "/api/auth/mfa/totp", headers: { ...bearer(enrolled.session), ...FROM }, payload: { password: MFA_PASSWORD },
    });
    expect(off.statusCode, off.body).toBe(204);
    await h.drain();
    const offMail = h.smtp.to(USER).at(-1)!;
    expect(offMail.subject).toBe("Two-step verification was turned off");
    expect(offMail.text).toContain("someone who knows your password has lowered your account's protection");
  });

  it("a sign-in from a device that was not trusted is mailed; a trusted one, or DEADBOLT_NOTIFY_NEW_DEVICE=false, is not", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const client = { ip: "203.0.113.8", userAgent: FIREFOX };
    expect((await login(h.t.auth, { email: USER, password: PASSWORD, client, deviceTrusted: true })).kind).toBe("authenticated");
    expect((await login(h.t.auth, { email: USER, password: PASSWORD, client })).kind).toBe("authenticated");
    expect((await login(h.t.auth, { email: USER, password: "wrong", client, deviceTrusted: false })).kind).toBe("failed");
    await h.drain();
    expect(h.smtp.to(USER)).toEqual([]);
    expect((await login(h.t.auth, { email: USER, password: PASSWORD, client, deviceTrusted: false })).kind).toBe("authenticated");
    await h.drain();
    const [mail] = h.smtp.to(USER);
    expect(mail!.subject).toBe("New sign-in to your account from Firefox 133 on Windows 10");
    expectOrigin(mail!.text, "203.0.113.8");
    expect(mail!.text).toContain("someone knows your password");
    await h.close();

    h = await createHarness(dialect, { env: { DEADBOLT_NOTIFY_NEW_DEVICE: "false" } });
    await h.t.createUser(USER, PASSWORD);
    expect((await login(h.t.auth, { email: USER, password: PASSWORD, client, deviceTrusted: false })).kind).toBe("authenticated");
    await h.drain();
    expect(await outbox(h.t, USER)).toEqual([]);
  });
});
