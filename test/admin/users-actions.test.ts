import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser, type UserView } from "../../src/auth/index.ts";
import { listEvents } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { ADMIN_EMAIL, ADMIN_PASSWORD, bearer, errorCode, failLogins, get, post, signIn, USER_PASSWORD, withAdmin, type Session } from "./support.ts";

const lastEvent = async (t: TestApp, type: string) =>
  (await listEvents(t.auth.database.db, { type, order: "newest", limit: 1 }))[0];

describe.each(DIALECTS)("admin user actions (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  afterEach(async () => t?.close());

  it("creates users: 201 U, duplicates 409, bad e-mail 400, weak password 400", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const created = await post(t, admin, "/api/admin/users", { email: " New.User@Example.com ", password: "a-good-password" });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json<UserView>();
    expect(user).toMatchObject({
      email: "new.user@example.com", role: "user", status: "active", lockedUntil: null, failedPasswordAttempts: 0,
      mfaEnabled: false, createdAt: new Date(t.clock.now()).toISOString(),
    });
    expect((await get(t, admin, `/api/admin/users/${user.id}`)).json()).toEqual(user);
    expect((await postLogin(t.app, "new.user@example.com", "a-good-password")).statusCode).toBe(200);
    expect(await lastEvent(t, "user.created")).toMatchObject({ userId: user.id, details: { role: "user", by: "admin", actor: ADMIN_EMAIL } });

    const boss = await post(t, admin, "/api/admin/users", { email: "boss@example.com", password: "another-good-one", role: "admin" });
    expect(boss.json()).toMatchObject({ role: "admin" });

    const cases: Array<[object, number, string]> = [
      [{ email: "NEW.user@example.com", password: "a-good-password" }, 409, "email_taken"],
      [{ email: "not-an-email", password: "a-good-password" }, 400, "invalid_request"],
      [{ email: "a@b", password: "a-good-password" }, 400, "invalid_request"],
      [{ email: "weak@example.com", password: "short" }, 400, "weak_password"],
      [{ email: "weak@example.com", password: "" }, 400, "weak_password"],
      [{ email: "role@example.com", password: "a-good-password", role: "root" }, 400, "invalid_request"],
      [{ email: "typo@example.com", password: "a-good-password", rol: "admin" }, 400, "invalid_request"],
      [{ password: "a-good-password" }, 400, "invalid_request"],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(t, admin, "/api/admin/users", body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(errorCode(response)).toBe(code);
    }
    const all = (await get(t, admin, "/api/admin/users")).json<{ users: UserView[] }>().users.map((u) => u.email);
    expect(all).toEqual(["boss@example.com", "new.user@example.com", ADMIN_EMAIL]);
  });

  it("creates a user without a password with a random one that nobody knows", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const first = await post(t, admin, "/api/admin/users", { email: "invitee@example.com" });
    const second = await post(t, admin, "/api/admin/users", { email: "invitee2@example.com" });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    const rows = await t.auth.database.db.selectFrom("users").select(["email", "password_hash"]).where("email", "like", "invitee%").execute();
    expect(rows).toHaveLength(2);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash);
    for (const guess of ["", "password", "undefined", "null"]) {
      expect((await postLogin(t.app, "invitee@example.com", guess)).statusCode).not.toBe(200);
    }
  });

  it("gets one user or 404 not_found", async () => {
    ({ t, admin } = await withAdmin(dialect));
    expect((await get(t, admin, `/api/admin/users/${admin.userId}`)).json()).toMatchObject({ email: ADMIN_EMAIL, role: "admin" });
    for (const id of ["00000000-0000-0000-0000-000000000000", "nope"]) {
      const missing = await get(t, admin, `/api/admin/users/${id}`);
      expect(missing.statusCode).toBe(404);
      expect(errorCode(missing)).toBe("not_found");
      for (const action of ["unlock", "enable", "disable"]) {
        const response = await post(t, admin, `/api/admin/users/${id}/${action}`);
        expect(response.statusCode, action).toBe(404);
        expect(errorCode(response)).toBe("not_found");
      }
    }
  });

  it("unlocks a locked user: active, counters 0, can sign in, audited with the admin's e-mail", async () => {
    ({ t, admin } = await withAdmin(dialect, { DEADBOLT_LOCKOUT_THRESHOLD: "3" }));
    const victim = await t.createUser("victim@example.com", USER_PASSWORD);
    await failLogins(t, "victim@example.com", 3);
    expect((await get(t, admin, `/api/admin/users/${victim.id}`)).json()).toMatchObject({ status: "locked", failedPasswordAttempts: 3 });
    expect((await postLogin(t.app, "victim@example.com", USER_PASSWORD)).statusCode).toBe(401);

    const unlocked = await post(t, admin, `/api/admin/users/${victim.id}/unlock`);
    expect(unlocked.statusCode).toBe(200);
    expect(unlocked.json()).toMatchObject({
      status: "active", lockedUntil: null, lockReason: null, failedPasswordAttempts: 0, failedMfaAttempts: 0, lockoutCount: 0,
    });
    expect(await lastEvent(t, "account.unlocked")).toMatchObject({
      userId: victim.id, email: "victim@example.com", details: { by: "admin", actor: ADMIN_EMAIL, wasLocked: true },
    });
    expect((await postLogin(t.app, "victim@example.com", USER_PASSWORD)).statusCode).toBe(200);
  });

  it("disables (ending the user's sessions) and enables, both audited", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const user = await t.createUser("member@example.com", USER_PASSWORD);
    const session = await signIn(t, "member@example.com", USER_PASSWORD);
    const me = () => t.app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(session) });
    expect((await me()).statusCode).toBe(200);

    const disabled = await post(t, admin, `/api/admin/users/${user.id}/disable`);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ status: "disabled", disabledReason: "admin" });
    expect((await me()).statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/api/auth/me", headers: { cookie: session.cookie } })).statusCode).toBe(401);
    expect((await postLogin(t.app, "member@example.com", USER_PASSWORD)).statusCode).toBe(401);
    expect(await lastEvent(t, "account.disabled")).toMatchObject({ userId: user.id, details: { reason: "admin", by: "admin", actor: ADMIN_EMAIL } });

    const enabled = await post(t, admin, `/api/admin/users/${user.id}/enable`);
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ status: "active", disabledReason: null });
    expect(await lastEvent(t, "account.enabled")).toMatchObject({ userId: user.id, details: { by: "admin", actor: ADMIN_EMAIL, previousReason: "admin" } });
    expect((await postLogin(t.app, "member@example.com", USER_PASSWORD)).statusCode).toBe(200);
  });

  it("refuses an admin disabling itself (409 cannot_disable_self), but allows disabling another admin", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const self = await post(t, admin, `/api/admin/users/${admin.userId}/disable`);
    expect(self.statusCode).toBe(409);
    expect(errorCode(self)).toBe("cannot_disable_self");
    const other = await t.createUser("other-admin@example.com", USER_PASSWORD, "admin");
    expect(errorCode(await post(t, admin, `/api/admin/users/${admin.userId}/disable`))).toBe("cannot_disable_self");
    expect((await post(t, admin, `/api/admin/users/${other.id}/disable`)).json()).toMatchObject({ status: "disabled" });
    expect((await get(t, admin, `/api/admin/users/${admin.userId}`)).json()).toMatchObject({ status: "active" });
  });

  it("never disables the last active admin (409 last_admin), even when its admin is disabled mid-request", async () => {
    t = await createTestApp(dialect);
    // The acting admin is disabled (say from the CLI) after its request was authenticated.
    let actingAdminId = "";
    t.app.addHook("preHandler", async (request) => {
      if (request.headers["x-test-race"] === "1") expect((await disableUser(t.auth, actingAdminId, CLI_ACTOR)).ok).toBe(true);
    });
    await t.createUser(ADMIN_EMAIL, ADMIN_PASSWORD, "admin");
    const other = await t.createUser("other-admin@example.com", USER_PASSWORD, "admin");
    admin = await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    actingAdminId = admin.userId;
    const response = await t.app.inject({
      method: "POST", url: `/api/admin/users/${other.id}/disable`, headers: { ...bearer(admin), "x-test-race": "1" },
    });
    expect(response.statusCode).toBe(409);
    expect(errorCode(response)).toBe("last_admin");
    const row = await t.auth.database.db.selectFrom("users").select("disabled_reason").where("id", "=", other.id).executeTakeFirstOrThrow();
    expect(row.disabled_reason).toBeNull();
  });

  // Write skew under READ COMMITTED: both "another admin stays active" checks could pass; an
  // advisory lock in applyLockoutWrite serialises admin disables on PostgreSQL.
  it("two admins disabling each other at once leave one active admin", async () => {
    ({ t, admin } = await withAdmin(dialect));
    for (let round = 0; round < 5; round++) {
      const a = await t.createUser(`a${round}@example.com`, USER_PASSWORD, "admin");
      const b = await t.createUser(`b${round}@example.com`, USER_PASSWORD, "admin");
      const [sa, sb] = [await signIn(t, a.email, USER_PASSWORD), await signIn(t, b.email, USER_PASSWORD)];
      // Only the two admins of this round are active admins.
      await t.auth.database.db.updateTable("users").set({ disabled_reason: "admin" })
        .where("role", "=", "admin").where("id", "not in", [a.id, b.id]).execute();
      const responses = await Promise.all([
        post(t, sa, `/api/admin/users/${b.id}/disable`), post(t, sb, `/api/admin/users/${a.id}/disable`),
      ]);
      expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
      for (const r of responses) if (r.statusCode !== 200) expect(["last_admin", "unauthenticated"]).toContain(errorCode(r));
      const active = await t.auth.database.db.selectFrom("users").select("id")
        .where("role", "=", "admin").where("disabled_reason", "is", null).execute();
      expect(active, `round ${round}`).toHaveLength(1);
    }
  });
});
