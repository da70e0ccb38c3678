import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser, enableUser, hotp, totpStep, unlockUser } from "../../src/auth/index.ts";
import { postLogin } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { viewOf } from "../http/helpers.ts";
import { createHarness, failLogins, outbox, PASSWORD, postJson, PUBLIC_URL, THRESHOLD, type Harness } from "./harness.ts";
import { tokenIn } from "./smtp.ts";
import { base32Decode } from "../support/base32.ts";

const ADMIN_CLIENT = { ip: "198.51.100.7", userAgent: "console" };


describe.each(DIALECTS)("admin alerts and administrator notices (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  async function withAdmins(env: Record<string, string> = {}): Promise<void> {
    h = await createHarness(dialect, { env });
    await h.t.createUser("root@example.com", PASSWORD, "admin");
    await h.t.createUser("ops@example.com", PASSWORD, "admin");
    const gone = await h.t.createUser("gone@example.com", PASSWORD, "admin");
    await h.t.createUser("boss@example.com", PASSWORD, "admin");
    await h.t.createUser("user@example.com", PASSWORD);
    expect((await disableUser(h.t.auth, gone.id, CLI_ACTOR)).ok).toBe(true);
  }

  it("a locked admin gets the lock notice; every other active admin gets an alert", async () => {
    await withAdmins();
    await failLogins(h.t, "boss@example.com", THRESHOLD);
    expect(await h.drain()).toBe(3);
    expect(h.smtp.to("boss@example.com").map((m) => m.subject)).toEqual([expect.stringMatching(/^Your account is locked until /)]);
    for (const admin of ["root@example.com", "ops@example.com"]) {
      const [alert] = h.smtp.to(admin);
      expect(alert!.subject).toMatch(/^Admin account boss@example\.com is locked until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      expect(alert!.text).toContain(`${THRESHOLD} failed password attempts`);
      expect(alert!.text).toContain(`${PUBLIC_URL}/admin`);
      expect(alert!.text).not.toContain("token=");
    }
    expect(h.smtp.to("gone@example.com")).toHaveLength(0);
    // A regular user's lock alerts nobody else.
    await failLogins(h.t, "user@example.com", THRESHOLD);
    expect(await h.drain()).toBe(1);
    expect(h.smtp.mails.filter((m) => m.subject.startsWith("Admin account"))).toHaveLength(2);
  });

  it("an admin disabled by policy: disabled notice and alerts", async () => {
    await withAdmins({ DEADBOLT_LOCKOUT_DISABLE_AFTER: "1" });
    await failLogins(h.t, "boss@example.com", THRESHOLD);
    expect((await viewOf(h.t, "boss@example.com")).status).toBe("disabled");
    await h.drain();
    const [notice] = h.smtp.to("boss@example.com");
    expect(notice!.subject).toBe("Your account has been disabled");
    expect(notice!.text).toContain("Only an administrator can enable the account again");
    expect(notice!.text).not.toContain("locked");
    expect(h.smtp.to("root@example.com")[0]!.subject).toBe("Admin account boss@example.com was disabled (repeated_lockouts)");
  });

  it("an administrator's unlock and enable are mailed to the user; the user's own unlock is not", async () => {
    await withAdmins();
    const user = await viewOf(h.t, "user@example.com");
    expect((await unlockUser(h.t.auth, user.id, { by: "admin", email: "root@example.com", client: ADMIN_CLIENT })).ok).toBe(true);
    expect(await h.drain()).toBe(0); // it was not locked: nothing to tell
    await failLogins(h.t, "user@example.com", THRESHOLD);
    await h.drain();
    expect((await unlockUser(h.t.auth, user.id, { by: "admin", email: "root@example.com", client: ADMIN_CLIENT })).ok).toBe(true);
    expect(await h.drain()).toBe(1);
    const unlocked = h.smtp.to("user@example.com").at(-1)!;
    expect(unlocked.subject).toBe("Your account was unlocked");
    expect(unlocked.text).toContain("unlocked by the administrator root@example.com");
    expect(unlocked.text).toContain(`${PUBLIC_URL}/login`);

    expect((await disableUser(h.t.auth, user.id, CLI_ACTOR)).ok).toBe(true);
    expect((await enableUser(h.t.auth, user.id, CLI_ACTOR)).ok).toBe(true);
    expect(await h.drain()).toBe(1);
    expect(h.smtp.to("user@example.com").at(-1)!.text).toContain("was enabled by an administrator from the command line");

    h.t.clock.advance(1000);
    await failLogins(h.t, "user@example.com", THRESHOLD);
    await h.drain();
    const token = tokenIn(h.smtp.to("user@example.com").at(-1), "unlock");
    expect((await postJson(h.t, "/api/auth/unlock", { token })).statusCode).toBe(204);
    expect(await h.drain()).toBe(0);
    expect((await outbox(h.t, "user@example.com")).map((r) => r.kind))
      .toEqual(["lock_notice", "account_restored", "account_restored", "lock_notice"]);
  });

  it("2FA failures that disable the account: 'someone entered your correct password', with a reset link", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_MFA_THRESHOLD: "2", DEADBOLT_MFA_LOCKOUT_ACTION: "disable" } });
    await h.t.createUser("root@example.com", PASSWORD, "admin");
    await h.t.createUser("mfa@example.com", PASSWORD);
    const token = (await postLogin(h.t.app, "mfa@example.com", PASSWORD)).json().token as string;
    const auth = { authorization: `Bearer ${token}` };
    const setup = await h.t.app.inject({ method: "POST", url: "/api/auth/mfa/totp/setup", headers: auth });
    const code = hotp(base32Decode(setup.json().secret), totpStep(h.t.clock.now()));
    expect((await h.t.app.inject({ method: "POST", url: "/api/auth/mfa/totp/confirm", headers: auth, payload: { code } })).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) {
      const challenge = (await postLogin(h.t.app, "mfa@example.com", PASSWORD)).json().mfaToken as string;
      const wrong = code === "000000" ? "111111" : "000000";
      expect((await postJson(h.t, "/api/auth/login/mfa", { mfaToken: challenge, code: wrong })).statusCode).toBe(401);
    }
    expect((await viewOf(h.t, "mfa@example.com")).status).toBe("disabled");
    // The first sign-in's new-device notice, "two-step verification was turned on", then the disabled notice.
    expect(await h.drain()).toBe(3);
    const notice = h.smtp.to("mfa@example.com").find((m) => m.subject === "Your account has been disabled");
    expect(notice!.subject).toBe("Your account has been disabled");
    expect(notice!.text).toContain("after 2 failed two-step verification attempts");
    expect(notice!.text).toContain("Someone entered your correct password");
    tokenIn(notice, "reset");
    // A regular user: no admin alert.
    expect(h.smtp.to("root@example.com")).toHaveLength(0);
  });
});
