/**
 * Issue 8, defects 3 and 8: bad input is refused at the boundary, the same way on both
 * databases (PostgreSQL answered 500 to a NUL, SQLite 200), and every web form applies its
 * API's limits (a form counted what the API calls malformed). Each example of the issue is
 * one case here; each asserts the answer and that nothing was counted or recorded.
 */
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createLockout } from "../../src/index.ts";
import { parseSince } from "../../src/since.ts";
import { findUserByEmail, insertEvents, listEvents } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { enroll, PASSWORD } from "../mfa/helpers.ts";
import { viewOf } from "../http/helpers.ts";

const ADMIN = "admin@example.com";
const USER = "user@example.com";
const MFA_USER = "mfa@example.com";
const NUL = "\u0000";
const LONG_PASSWORD = "p".repeat(1025);
const FORM = { "content-type": "application/x-www-form-urlencoded" };

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe.each(DIALECTS)("input validation at the boundary (%s)", (dialect) => {
  let t: TestApp;
  let admin: Record<string, string>;
  let adminPage: Record<string, string>;
  let userId: string;
  let mfaSession: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.createUser(ADMIN, PASSWORD, "admin");
    userId = (await t.createUser(USER, PASSWORD)).id;
    const login = await postLogin(t.app, ADMIN, PASSWORD);
    const token = (login.json() as { token: string }).token;
    admin = { authorization: `Bearer ${token}` };
    adminPage = { cookie: `deadbolt_session=${token}` };
    mfaSession = (await enroll(t, MFA_USER)).session;
  }, 60_000);
  afterAll(async () => t?.close());

  /** Events, and every counter of the users a malformed request could touch. */
  async function footprint(): Promise<unknown> {
    const events = (await t.auth.database.db.selectFrom("events").select("id").execute()).length;
    const outbox = (await t.auth.database.db.selectFrom("outbox").select("id").execute()).length;
    const users = await Promise.all([ADMIN, USER, MFA_USER].map(async (email) => {
      const view = await viewOf(t, email);
      return [view.failedPasswordAttempts, view.failedMfaAttempts, view.lockoutCount, view.lastFailedAt];
    }));
    return { events, outbox, users };
  }

  /** The request is answered `status` (never 5xx) and leaves no trace. */
  async function refused(request: InjectOptions, status = 400, error: string | null = "invalid_request"): Promise<string> {
    const before = await footprint();
    const response = await t.app.inject(request);
    expect(response.statusCode, `${request.method} ${request.url}: ${response.body.slice(0, 300)}`).toBe(status);
    if (error !== null) expect((response.json() as { error: string }).error).toBe(error);
    expect(await footprint(), `${request.method} ${request.url} left a trace`).toEqual(before);
    return response.body;
  }

  it("NUL in the login e-mail: 400 invalid_request, counts nothing (API and sign-in page)", async () => {
    await refused({ method: "POST", url: "/api/auth/login", payload: { email: `us${NUL}er@example.com`, password: "guess" } });
    await refused({ method: "POST", url: "/api/auth/login", payload: { email: `${USER}${NUL}`, password: "guess" } });
    await refused({ method: "POST", url: "/api/auth/login", payload: { email: USER, password: "guess", deviceToken: NUL } });
    // A right-to-left override makes an address read as another in the console and in mails.
    await refused({ method: "POST", url: "/api/auth/login", payload: { email: "user@\u202Emoc.elpmaxe", password: "guess" } });
    const page = await refused({ method: "POST", url: "/login", headers: FORM, payload: form({ email: `us${NUL}er@example.com`, password: "guess" }) }, 400, null);
    expect(page).toContain("Enter your e-mail address and password.");
  });

  it("the 400 says what is wrong in words, not as a regular expression", async () => {
    const email = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: `us${NUL}er@example.com`, password: "guess" } });
    expect((email.json() as { message: string }).message).toBe("Invalid body: body/email must be an e-mail address without spaces or control characters");
    const search = await t.app.inject({ method: "GET", url: "/api/admin/users?q=%00", headers: admin });
    expect((search.json() as { message: string }).message).toBe("Invalid querystring: querystring/q must not contain control characters");
  });

  it("NUL in a password is part of the secret: the generic 401, the same on both dialects", async () => {
    const before = await viewOf(t, USER);
    const response = await postLogin(t.app, USER, `${PASSWORD}${NUL}`);
    expect(response.statusCode).toBe(401);
    expect((response.json() as { error: string }).error).toBe("invalid_credentials");
    expect((await viewOf(t, USER)).failedPasswordAttempts).toBe(before.failedPasswordAttempts + 1);
    // The right password still works (and resets the counter).
    expect((await postLogin(t.app, USER, PASSWORD)).statusCode).toBe(200);
  });

  it("NUL in forgot: 400, no event, no mail (API and page)", async () => {
    await refused({ method: "POST", url: "/api/auth/password/forgot", payload: { email: `us${NUL}er@example.com` } });
    const page = await refused({ method: "POST", url: "/forgot", headers: FORM, payload: form({ email: `us${NUL}er@example.com` }) }, 400, null);
    expect(page).toContain("Enter your e-mail address.");
  });

  it("NUL in reset and unlock tokens and in the second-factor token: 400", async () => {
    await refused({ method: "POST", url: "/api/auth/password/reset", payload: { token: `a${NUL}b`, password: "a long new passphrase" } });
    await refused({ method: "POST", url: "/api/auth/unlock", payload: { token: `a${NUL}b` } });
    await refused({ method: "POST", url: "/api/auth/login/mfa", payload: { mfaToken: `${"m".repeat(30)}${NUL}`, code: "123456" } });
    await refused({ method: "POST", url: "/reset", headers: FORM, payload: form({ token: `a${NUL}b`, password: "x", confirm: "x" }) }, 400, null);
  });

  it("NUL in the admin user search: 400 (API and console)", async () => {
    await refused({ method: "GET", url: "/api/admin/users?q=%00", headers: admin });
    await refused({ method: "GET", url: `/api/admin/users?q=${"q".repeat(255)}`, headers: admin });
    const page = await refused({ method: "GET", url: "/admin/users?q=a%00", headers: adminPage }, 400, null);
    expect(page).toContain("without control characters");
  });

  it("NUL in a cursor: 400 (users and events, API and console)", async () => {
    const nulCursor = Buffer.from(`a${NUL}@example.com`).toString("base64url");
    await refused({ method: "GET", url: `/api/admin/users?cursor=${nulCursor}`, headers: admin });
    await refused({ method: "GET", url: "/api/admin/events?cursor=%00", headers: admin });
    const page = await t.app.inject({ method: "GET", url: `/admin/users?cursor=${nulCursor}`, headers: adminPage });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("That page link is not valid");
  });

  it("NUL in an id: 400 (users, devices, clients; API and console)", async () => {
    for (const request of [
      { method: "GET", url: "/api/admin/users/%00" }, { method: "POST", url: "/api/admin/users/a%00/unlock" },
      { method: "POST", url: "/api/admin/users/a%00/reset-mfa" }, { method: "DELETE", url: "/api/admin/users/a%00" },
      { method: "GET", url: "/api/admin/users/a%00/devices" }, { method: "DELETE", url: "/api/auth/devices/a%00" },
      { method: "DELETE", url: "/api/admin/clients/a%00" },
    ] as const) await refused({ ...request, headers: admin });
    await refused({ method: "GET", url: "/admin/users/a%00", headers: adminPage }, 400, null);
    await refused({ method: "POST", url: "/admin/users/a%00/disable", headers: { ...adminPage, ...FORM }, payload: form({ note: "x" }) }, 400, null);
    await refused({ method: "POST", url: "/admin/users/a%00/delete", headers: { ...adminPage, ...FORM }, payload: "" }, 400, null);
    await refused({ method: "POST", url: "/admin/clients/a%00/delete", headers: { ...adminPage, ...FORM }, payload: "" }, 400, null);
    await refused({
      method: "POST", url: "/account/devices/forget", headers: { cookie: `deadbolt_session=${mfaSession}`, ...FORM }, payload: form({ id: `a${NUL}` }),
    }, 400, null);
  });

  it("control characters in an admin's note or a client's name: 400, nothing done", async () => {
    await refused({ method: "POST", url: `/api/admin/users/${userId}/disable`, headers: admin, payload: { note: `left${NUL}` } });
    await refused({ method: "POST", url: `/api/admin/users/${userId}/disable`, headers: admin, payload: { note: "bell\u0007" } });
    await refused({ method: "POST", url: `/admin/users/${userId}/disable`, headers: { ...adminPage, ...FORM }, payload: form({ note: `left${NUL}` }) }, 400, null);
    expect((await viewOf(t, USER)).status).toBe("active");
    await refused({ method: "POST", url: "/api/admin/clients", headers: admin, payload: { name: `app${NUL}`, redirectUris: ["https://app.example.com/cb"] } });
    await refused({ method: "POST", url: "/api/admin/users", headers: admin, payload: { email: `new${NUL}@example.com` } });
    // A note on several lines is still a note.
    const multiLine = await t.app.inject({ method: "POST", url: `/api/admin/users/${userId}/disable`, headers: admin, payload: { note: "left\r\nthe company" } });
    expect(multiLine.statusCode, multiLine.body).toBe(200);
    expect((await t.app.inject({ method: "POST", url: `/api/admin/users/${userId}/enable`, headers: admin })).statusCode).toBe(200);
  });

  it("a malformed import request is the standard 400, not a 500 (found by the fuzz)", async () => {
    await refused({ method: "POST", url: "/api/admin/users/import?dryRun=%00", headers: { ...admin, "content-type": "application/x-ndjson" }, payload: "" });
  });

  it("NUL in an event filter: 400 (API userId, ip; console e-mail, ip)", async () => {
    await refused({ method: "GET", url: "/api/admin/events?userId=%00", headers: admin });
    await refused({ method: "GET", url: "/api/admin/events?ip=1.2.3.4%00", headers: admin });
    await refused({ method: "GET", url: "/admin/events?email=a%00", headers: adminPage }, 400, null);
    await refused({ method: "GET", url: "/admin/events?ip=%00", headers: adminPage }, 400, null);
  });

  it("an out-of-range since: 400 (API and console), never a query one database refuses", async () => {
    for (const since of ["300000-01-01", "-1h", `${"9".repeat(30)}d`, "99999999999d", "1e309d", "0000-01-01", "1969-12-31T23:59:59Z", "10000-01-01"]) {
      await refused({ method: "GET", url: `/api/admin/events?since=${encodeURIComponent(since)}`, headers: admin });
      await refused({ method: "GET", url: `/admin/events?since=${encodeURIComponent(since)}`, headers: adminPage }, 400, null);
    }
    const ok = await t.app.inject({ method: "GET", url: "/api/admin/events?since=36500d", headers: admin });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it("a User-Agent with NUL and control characters is stored cleaned; the login still works", async () => {
    const agent = `odd${NUL}agent\u0001\u007f/1.0\u202E`;
    const wrong = await postLogin(t.app, USER, "not the password", { "user-agent": agent });
    expect(wrong.statusCode).toBe(401);
    const right = await postLogin(t.app, USER, PASSWORD, { "user-agent": agent });
    expect(right.statusCode, right.body).toBe(200);
    const [latest] = await listEvents(t.auth.database.db, { userId, order: "newest", limit: 1 });
    expect(latest?.userAgent).toBe("odd agent  /1.0 ");
  });

  it("the store itself never passes a NUL to the database: stored and looked up the same on both dialects", async () => {
    await insertEvents(t.auth.database.db, [{
      type: "login.failed", at: t.clock.now(), userId: null, email: `x${NUL}@example.com`, ip: `1.2.3.4${NUL}`,
      userAgent: `ua${NUL}`, message: `m${NUL}`, details: { reason: "unknown_user", note: `n${NUL}` },
    }]);
    const [stored] = await listEvents(t.auth.database.db, { order: "newest", limit: 1 });
    expect(stored?.email).toBe("x\uFFFD@example.com");
    expect(stored?.userAgent).toBe("ua\uFFFD");
    expect(stored?.details.note).toBe(`n${NUL}`); // JSON text carries it escaped, which both store
    expect(await findUserByEmail(t.auth.database.db, `user${NUL}@example.com`)).toBeUndefined();
  });

  it("the library over the app's own pool or file: a NUL in an account or a user agent is never an error", async () => {
    const pool = dialect === "postgres" ? new pg.Pool({ connectionString: t.database.url }) : null;
    const lockout = createLockout(pool === null ? { databaseUrl: t.database.url, policy: { threshold: 2 } } : { db: pool, policy: { threshold: 2 } });
    try {
      const client = { ip: `198.51.100.9${NUL}`, userAgent: `lib${NUL}agent` };
      expect(await lockout.attempt({ account: `lib${NUL}user`, verify: () => false, client })).toBe("failed");
      expect(await lockout.attempt({ account: `lib${NUL}user`, verify: () => false, client })).toBe("failed");
      expect((await lockout.status(`lib${NUL}user`)).status).toBe("locked");
      const [failed] = (await lockout.events({ account: `lib${NUL}user` })).filter((e) => e.type === "login.failed");
      expect(failed?.userAgent).toBe("lib agent");
    } finally {
      await lockout.close();
      await pool?.end();
    }
  });

  it("web forms apply their API's limits: a password over 1,024 characters is a 400 that counts nothing", async () => {
    const mfaPage = { cookie: `deadbolt_session=${mfaSession}`, ...FORM };
    // The API answers 400 to it ...
    await refused({ method: "DELETE", url: "/api/auth/mfa/totp", headers: { authorization: `Bearer ${mfaSession}` }, payload: { password: LONG_PASSWORD } });
    // ... and so does every form (it counted as a failed attempt on /account/mfa/disable).
    let page = await refused({ method: "POST", url: "/account/mfa/disable", headers: mfaPage, payload: form({ password: LONG_PASSWORD }) }, 400, null);
    expect(page).toContain("longer than 1024 characters");
    page = await refused({ method: "POST", url: "/account/mfa/disable", headers: mfaPage, payload: form({ password: "" }) }, 400, null);
    expect(page).toContain("Enter your password");
    await refused({ method: "POST", url: "/api/auth/mfa/recovery-codes", headers: { authorization: `Bearer ${mfaSession}` }, payload: { password: LONG_PASSWORD } });
    page = await refused({ method: "POST", url: "/account/mfa/recovery-codes", headers: mfaPage, payload: form({ password: LONG_PASSWORD }) }, 400, null);
    expect(page).toContain("longer than 1024 characters");
    await refused({
      method: "POST", url: "/account/password", headers: mfaPage,
      payload: form({ currentPassword: LONG_PASSWORD, newPassword: "a long new passphrase", confirmPassword: "a long new passphrase" }),
    }, 400, null);
    page = await refused({
      method: "POST", url: "/account/password", headers: mfaPage,
      payload: form({ currentPassword: "not the password", newPassword: LONG_PASSWORD, confirmPassword: LONG_PASSWORD }),
    }, 400, null);
    expect(page).toContain("longer than 1024 characters");
    await refused({ method: "POST", url: "/login", headers: FORM, payload: form({ email: USER, password: LONG_PASSWORD }) }, 400, null);
    expect((await viewOf(t, MFA_USER)).mfaEnabled).toBe(true);
  });
});

describe("since is bounded (one parser for API, console and CLI)", () => {
  const now = Date.parse("2026-11-22T12:00:00Z");
  it("accepts durations up to 100 years and times from 1970 to 9999; refuses the rest", () => {
    expect(parseSince("1h", now)).toBe(now - 3_600_000);
    expect(parseSince("36500d", now)).toBe(0); // a look back before 1970 starts at 1970
    expect(parseSince("2026-11-22T11:00:00Z", now)).toBe(now - 3_600_000);
    expect(parseSince("9999-12-31T23:59:59Z", now)).toBe(Date.parse("9999-12-31T23:59:59Z"));
    for (const bad of ["36700d", "99999999999d", `${"9".repeat(40)}d`, "-1h", "300000-01-01", "+275760-09-13", "1969-12-31", "Infinity", ""]) {
      expect(parseSince(bad, now), bad).toBeNull();
    }
  });
});
