/**
 * The user lifecycle over HTTP with a real SMTP peer: invite (set-password link, 7 days,
 * single use), reset-mfa, send-reset, role changes and deletion with the last-admin rule, and
 * bad input answered with a clear 4xx that changes nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { UserView } from "../../src/auth/index.ts";
import { countMatchingEvents, listEvents, listNotices } from "../../src/store/index.ts";
import { createHarness, type Harness } from "../notify/harness.ts";
import { tokenIn } from "../notify/smtp.ts";
import { postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { enroll, PASSWORD as MFA_PASSWORD } from "../mfa/helpers.ts";
import { ADMIN_EMAIL, ADMIN_PASSWORD, bearer, errorCode, get, post, signIn, type Session } from "./support.ts";

const DAY = 24 * 3_600_000;
const NEW_PASSWORD = "a-chosen-passphrase";

function patch(t: TestApp, session: Session, id: string, payload: unknown) {
  return t.app.inject({ method: "PATCH", url: `/api/admin/users/${id}`, headers: bearer(session), payload: payload as object });
}

function remove(t: TestApp, session: Session, id: string) {
  return t.app.inject({ method: "DELETE", url: `/api/admin/users/${id}`, headers: bearer(session) });
}

/** Every row the lifecycle touches, to show that a refused request changed nothing. */
async function snapshot(t: TestApp) {
  const db = t.auth.database.db;
  return {
    users: await db.selectFrom("users").selectAll().orderBy("id").execute(),
    events: await countMatchingEvents(db, {}),
    outbox: (await listNotices(db)).length,
    sessions: (await db.selectFrom("sessions").select("token_hash").execute()).length,
  };
}

describe.each(DIALECTS)("user lifecycle (%s)", (dialect) => {
  let h: Harness;
  let admin: Session;
  afterEach(async () => h?.close());

  async function setUp(): Promise<TestApp> {
    h = await createHarness(dialect);
    await h.t.createUser(ADMIN_EMAIL, ADMIN_PASSWORD, "admin");
    admin = await signIn(h.t, ADMIN_EMAIL, ADMIN_PASSWORD);
    // That sign-in came from a new device: its notice goes out now, not among the mails counted below.
    await h.drain();
    return h.t;
  }

  it("invites a user by mail: the link sets a password once, within 7 days, and then they sign in", async () => {
    const t = await setUp();
    const created = await post(t, admin, "/api/admin/users", { email: "Ann@Example.com" });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json<UserView>();
    expect(user).toMatchObject({ email: "ann@example.com", role: "user", status: "active" });
    expect(await h.drain()).toBe(1);
    const [mail] = h.smtp.to("ann@example.com");
    expect(mail?.subject).toBe("You are invited to deadbolt: set your password");
    expect(mail?.text).toContain(`The administrator ${ADMIN_EMAIL} created an account for you`);
    expect(mail?.text).toContain("works once, for 7 days");
    const token = /\/set-password\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1] ?? "";
    expect(token).toHaveLength(43);
    const [created_] = await listEvents(t.auth.database.db, { type: "user.created", userId: user.id, order: "newest" });
    expect(created_?.details).toMatchObject({ invited: true, by: "admin", actor: ADMIN_EMAIL });

    // Nobody can sign in before the password is chosen (the random one is unknown).
    expect((await postLogin(t.app, "ann@example.com", "")).statusCode).toBe(400);
    const page = await t.app.inject({ method: "GET", url: `/set-password?token=${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Choose your password");

    // A weak password is refused and the link still works; a good one spends it.
    const weak = await t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password: "short" } });
    expect(errorCode(weak)).toBe("weak_password");
    t.clock.advance(7 * DAY - 60_000);
    const set = await t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password: NEW_PASSWORD } });
    expect(set.statusCode, set.body).toBe(204);
    const again = await t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password: "another-passphrase" } });
    expect(errorCode(again)).toBe("invalid_token");
    expect((await postLogin(t.app, "ann@example.com", NEW_PASSWORD)).statusCode).toBe(200);
    const [reset] = await listEvents(t.auth.database.db, { type: "password.reset", userId: user.id, order: "newest" });
    expect(reset?.message).toBe("password reset with the invitation link");
  });

  it("an invitation link expires after 7 days; with a password the user is not mailed", async () => {
    const t = await setUp();
    await post(t, admin, "/api/admin/users", { email: "late@example.com", role: "admin" });
    await h.drain();
    const text = h.smtp.to("late@example.com")[0]?.text ?? "";
    expect(text).toContain("as an administrator");
    const token = /\/set-password\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? "";
    t.clock.advance(7 * DAY + 1);
    const late = await t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password: NEW_PASSWORD } });
    expect(errorCode(late)).toBe("invalid_token");
    expect((await t.app.inject({ method: "GET", url: `/set-password?token=${token}` })).statusCode).toBe(400);

    admin = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const direct = await post(t, admin, "/api/admin/users", { email: "direct@example.com", password: NEW_PASSWORD });
    expect(direct.statusCode).toBe(201);
    await h.drain();
    expect(h.smtp.to("direct@example.com")).toHaveLength(0);
    expect((await postLogin(t.app, "direct@example.com", NEW_PASSWORD)).statusCode).toBe(200);
  });

  it("resets 2FA: the user signs in with the password alone, is mailed, and can enrol again", async () => {
    const t = await setUp();
    const enrolled = await enroll(t, "bob@example.com");
    const bob = enrolled.user;
    const session = { userId: bob.id, token: enrolled.session, cookie: "" };
    expect((await postLogin(t.app, "bob@example.com", MFA_PASSWORD)).json()).toMatchObject({ status: "mfa_required" });

    const reset = await post(t, admin, `/api/admin/users/${bob.id}/reset-mfa`);
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json<UserView>()).toMatchObject({ id: bob.id, mfaEnabled: false });
    // Sessions ended; recovery codes gone; the login needs no code.
    expect((await t.app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(session) })).statusCode).toBe(401);
    expect(await t.auth.database.db.selectFrom("recovery_codes").select("code_hash").where("user_id", "=", bob.id).execute()).toEqual([]);
    const login = await postLogin(t.app, "bob@example.com", MFA_PASSWORD);
    expect(login.json()).toMatchObject({ status: "authenticated" });
    const [event] = await listEvents(t.auth.database.db, { type: "mfa.disabled", userId: bob.id, order: "newest" });
    expect(event?.message).toBe(`two-step verification (TOTP) turned off by admin ${ADMIN_EMAIL}; recovery codes deleted and sessions ended`);
    await h.drain();
    const mail = h.smtp.to("bob@example.com").find((m) => m.subject.startsWith("Two-step verification was turned off"));
    expect(mail?.text).toContain(`by the administrator ${ADMIN_EMAIL}`);

    const fresh = login.json<{ token: string }>().token;
    const setup = await t.app.inject({ method: "POST", url: "/api/auth/mfa/totp/setup", headers: { authorization: `Bearer ${fresh}` } });
    expect(setup.statusCode).toBe(200);
  });

  it("sends a reset link (202), changes roles, and deletes users while keeping their events", async () => {
    const t = await setUp();
    const carol = await t.createUser("carol@example.com", "carol sails past the pier");
    const sent = await post(t, admin, `/api/admin/users/${carol.id}/send-reset`);
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toEqual({ status: "accepted" });
    await h.drain();
    tokenIn(h.smtp.to("carol@example.com")[0], "reset");

    const promoted = await patch(t, admin, carol.id, { role: "admin" });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json()).toMatchObject({ role: "admin" });
    const [changed] = await listEvents(t.auth.database.db, { type: "user.role_changed", userId: carol.id, order: "newest" });
    expect(changed).toMatchObject({ message: `role changed from user to admin by admin ${ADMIN_EMAIL}`, details: { from: "user", to: "admin" } });
    // Carol, now an admin herself, can demote and delete the first admin: two admins existed.
    const carolSession = await signIn(t, "carol@example.com", "carol sails past the pier");
    const rootId = admin.userId;
    expect((await patch(t, carolSession, rootId, { role: "user" })).json()).toMatchObject({ role: "user" });
    expect((await remove(t, carolSession, rootId)).statusCode).toBe(204);
    expect((await get(t, carolSession, `/api/admin/users/${rootId}`)).statusCode).toBe(404);
    const [deleted] = await listEvents(t.auth.database.db, { type: "user.deleted", order: "newest" });
    expect(deleted).toMatchObject({ userId: rootId, email: ADMIN_EMAIL, details: { by: "admin", actor: "carol@example.com" } });
    expect(await countMatchingEvents(t.auth.database.db, { userId: rootId })).toBeGreaterThan(1);
    expect(await t.auth.database.db.selectFrom("sessions").select("token_hash").where("user_id", "=", rootId).execute()).toEqual([]);
  });

  it("never demotes or deletes the last active admin, and refuses bad input without changing anything", async () => {
    const t = await setUp();
    const dave = await t.createUser("dave@example.com", "dave climbs the red dune", "admin");
    await post(t, admin, `/api/admin/users/${dave.id}/disable`, { note: "on leave" });
    const before = await snapshot(t);
    const refusals: Array<[Promise<{ statusCode: number; json<T>(): T }>, number, string]> = [
      [remove(t, admin, admin.userId), 409, "cannot_delete_self"],
      [patch(t, admin, admin.userId, { role: "user" }), 409, "cannot_change_own_role"],
      [remove(t, admin, "no-such-id"), 404, "not_found"],
      [patch(t, admin, "no-such-id", { role: "admin" }), 404, "not_found"],
      [patch(t, admin, dave.id, { role: "root" }), 400, "invalid_request"],
      [patch(t, admin, dave.id, {}), 400, "invalid_request"],
      [post(t, admin, "/api/admin/users/no-such-id/reset-mfa"), 404, "not_found"],
      [post(t, admin, "/api/admin/users/no-such-id/send-reset"), 404, "not_found"],
      [post(t, admin, "/api/admin/users", { email: "x@example.com", role: "owner" }), 400, "invalid_request"],
      [post(t, admin, "/api/admin/users", { email: "x@example.com", password: "short" }), 400, "weak_password"],
      [post(t, admin, `/api/admin/users/${dave.id}/disable`, { note: "x".repeat(501) }), 400, "invalid_request"],
    ];
    for (const [pending, status, code] of refusals) {
      const response = await pending;
      expect(response.statusCode).toBe(status);
      expect(response.json<{ error: string }>().error).toBe(code);
    }
    expect(await snapshot(t)).toEqual(before);

    // Root is the only active admin (dave is disabled): another admin may not demote or delete root.
    const erin = await t.createUser("erin@example.com", "erin naps in a hammock", "admin");
    const erinSession = await signIn(t, "erin@example.com", "erin naps in a hammock");
    await post(t, erinSession, `/api/admin/users/${dave.id}/enable`);
    await post(t, erinSession, `/api/admin/users/${dave.id}/disable`);
    expect((await post(t, admin, `/api/admin/users/${erin.id}/disable`)).statusCode).toBe(200);
    const last = await snapshot(t);
    // Nobody else can act now; the rule holds in the store even for the CLI (no acting admin).
    const { changeRole, deleteUser, CLI_ACTOR } = await import("../../src/auth/index.ts");
    expect(await changeRole(t.auth, admin.userId, "user", CLI_ACTOR)).toEqual({ ok: false, error: "last_admin" });
    expect(await deleteUser(t.auth, admin.userId, CLI_ACTOR)).toEqual({ ok: false, error: "last_admin" });
    expect(await snapshot(t)).toEqual(last);
    // A disabled admin can be deleted.
    expect((await remove(t, admin, dave.id)).statusCode).toBe(204);
  });

  it("keeps the disable note in the event", async () => {
    const t = await setUp();
    const frank = await t.createUser("frank@example.com", "frank paints blue barns");
    const response = await post(t, admin, `/api/admin/users/${frank.id}/disable`, { note: "left the company" });
    expect(response.json()).toMatchObject({ status: "disabled", disabledReason: "admin" });
    const [event] = await listEvents(t.auth.database.db, { type: "account.disabled", userId: frank.id, order: "newest" });
    expect(event).toMatchObject({ message: `account disabled by admin ${ADMIN_EMAIL}: “left the company”`, details: { note: "left the company" } });
  });
});
