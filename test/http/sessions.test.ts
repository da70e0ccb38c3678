import { createHash } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser } from "../../src/auth/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { me, MINUTE, signIn, viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const UNAUTHENTICATED = { error: "unauthenticated", message: "Sign in first." };

describe.each(DIALECTS)("sessions over HTTP (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  function sessionCookie(response: LightMyRequestResponse): string {
    const header = response.headers["set-cookie"];
    const cookies = Array.isArray(header) ? header : [String(header)];
    const found = cookies.filter((c) => c.startsWith("deadbolt_session="));
    expect(found).toHaveLength(1);
    return found[0] as string;
  }

  function withCookie(token: string) {
    return t.app.inject({ method: "GET", url: "/api/auth/me", cookies: { deadbolt_session: token } });
  }

  it("a login sets an HttpOnly, SameSite=Lax, Path=/ cookie, not Secure over http, holding the token", async () => {
    t = await createTestApp(dialect);
    const user = await t.createUser("ann@example.com", RIGHT);
    const response = await postLogin(t.app, "Ann@Example.COM", RIGHT);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { token: string; deviceToken: string };
    expect(body).toEqual({
      status: "authenticated", user: { id: user.id, email: "ann@example.com", role: "user" }, token: body.token, deviceToken: body.deviceToken,
    });
    expect(body.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.deviceToken).not.toBe(body.token);
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(sessionCookie(response)).toBe(`deadbolt_session=${body.token}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax`);
    expect(response.headers["strict-transport-security"]).toBeUndefined();
  });

  it("with an https DEADBOLT_PUBLIC_URL the cookie is Secure", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_PUBLIC_URL: "https://auth.example.com", DEADBOLT_SESSION_MAX_AGE: "1h" } });
    await t.createUser("ann@example.com", RIGHT);
    const response = await postLogin(t.app, "ann@example.com", RIGHT);
    const token = (response.json() as { token: string }).token;
    expect(sessionCookie(response)).toBe(`deadbolt_session=${token}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`);
    expect(response.headers["strict-transport-security"]).toMatch(/^max-age=\d+/);
  });

  it("GET /api/auth/me answers with the cookie or a Bearer token, 401 unauthenticated otherwise", async () => {
    t = await createTestApp(dialect);
    const user = await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    const expected = { user: { id: user.id, email: "ann@example.com", role: "user", mfaEnabled: false } };

    for (const response of [await withCookie(token), await me(t, token)]) {
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(expected);
    }
    const refused = [
      await t.app.inject({ method: "GET", url: "/api/auth/me" }),
      await me(t, "garbage"),
      await me(t, "A".repeat(43)),
      await me(t, `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`),
      await withCookie("A".repeat(43)),
      await t.app.inject({ method: "GET", url: "/api/auth/me", headers: { authorization: `Basic ${token}` } }),
    ];
    for (const response of refused) {
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(UNAUTHENTICATED);
    }
  });

  it("logout answers 204, clears the cookie and ends only that session", async () => {
    t = await createTestApp(dialect);
    await t.createUser("ann@example.com", RIGHT);
    const first = await signIn(t, "ann@example.com", RIGHT);
    const second = await signIn(t, "ann@example.com", RIGHT);
    const third = await signIn(t, "ann@example.com", RIGHT);

    const byCookie = await t.app.inject({ method: "POST", url: "/api/auth/logout", cookies: { deadbolt_session: first } });
    expect(byCookie.statusCode).toBe(204);
    expect(byCookie.body).toBe("");
    expect(sessionCookie(byCookie)).toMatch(/^deadbolt_session=; .*Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
    const byBearer = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { authorization: `Bearer ${second}` } });
    expect(byBearer.statusCode).toBe(204);

    expect((await me(t, first)).statusCode).toBe(401);
    expect((await withCookie(first)).statusCode).toBe(401);
    expect((await me(t, second)).statusCode).toBe(401);
    expect((await me(t, third)).statusCode).toBe(200);
    // Logging out without a session is harmless.
    expect((await t.app.inject({ method: "POST", url: "/api/auth/logout" })).statusCode).toBe(204);
  });

  it("a session ends after DEADBOLT_SESSION_IDLE_TIMEOUT without use; use keeps it alive", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_SESSION_IDLE_TIMEOUT: "30m" } });
    await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    t.clock.advance(29 * MINUTE);
    expect((await me(t, token)).statusCode).toBe(200);
    t.clock.advance(29 * MINUTE);
    expect((await me(t, token)).statusCode).toBe(200);
    t.clock.advance(30 * MINUTE - 1);
    expect((await me(t, token)).statusCode).toBe(200);
    t.clock.advance(30 * MINUTE);
    expect((await me(t, token)).statusCode).toBe(401);
    // Gone for good: moving the clock back does not revive it.
    t.clock.advance(-30 * MINUTE);
    expect((await me(t, token)).statusCode).toBe(401);
    expect(await t.auth.database.db.selectFrom("sessions").selectAll().execute()).toEqual([]);
  });

  // Regression: last_seen_at used to be refreshed only once a minute, so use within the first
  // minute was forgotten and a 1m idle timeout ended a session used 40 s ago.
  it("idle time counts from the last use, even when that use was less than a minute ago", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_SESSION_IDLE_TIMEOUT: "1m" } });
    await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    t.clock.advance(40_000);
    expect((await me(t, token)).statusCode).toBe(200);
    t.clock.advance(40_000);
    expect((await me(t, token)).statusCode).toBe(200);
  });

  it("a session ends at DEADBOLT_SESSION_MAX_AGE even when it is used all the time", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_SESSION_MAX_AGE: "1h", DEADBOLT_SESSION_IDLE_TIMEOUT: "30m" } });
    await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(20 * MINUTE - (i === 2 ? 1 : 0));
      expect((await me(t, token)).statusCode).toBe(200);
    }
    t.clock.advance(1);
    expect((await me(t, token)).statusCode).toBe(401);
  });

  it("only the SHA-256 of the token is stored; no table holds the token itself", async () => {
    t = await createTestApp(dialect);
    const user = await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    const db = t.auth.database.db;
    const sessions = await db.selectFrom("sessions").selectAll().execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      token_hash: createHash("sha256").update(token).digest("hex"),
      user_id: user.id,
      created_at: t.clock.now(),
      expires_at: t.clock.now() + 7 * 24 * 60 * MINUTE,
    });
    const everything = JSON.stringify([
      sessions, await db.selectFrom("users").selectAll().execute(), await db.selectFrom("events").selectAll().execute(),
    ]);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(Buffer.from(token, "base64url").toString("hex"));
  });

  it("cookie-authenticated state changes from another site are refused; same-origin and Bearer pass", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    const forbidden = { error: "forbidden", message: "Cross-site requests with the session cookie are refused." };
    const change = { currentPassword: "guess", newPassword: "amber kettle on a windy ridge" };
    for (const headers of [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }, { referer: "https://evil.example/page" }]) {
      const byCookie = { cookies: { deadbolt_session: token }, headers };
      const logout = await t.app.inject({ method: "POST", url: "/api/auth/logout", ...byCookie });
      expect([logout.statusCode, logout.json()]).toEqual([403, forbidden]);
      const changed = await t.app.inject({ method: "POST", url: "/api/auth/password/change", payload: change, ...byCookie });
      expect([changed.statusCode, changed.json()]).toEqual([403, forbidden]);
    }
    // Refused before anything was checked: no failure counted, the session is alive.
    expect((await viewOf(t, "ann@example.com")).failedPasswordAttempts).toBe(0);
    expect((await me(t, token)).statusCode).toBe(200);

    const sameOrigin = await t.app.inject({
      method: "POST", url: "/api/auth/password/change", payload: change,
      cookies: { deadbolt_session: token }, headers: { origin: "http://localhost:3000" },
    });
    expect(sameOrigin.statusCode).toBe(401);
    const bearer = await t.app.inject({
      method: "POST", url: "/api/auth/logout", headers: { authorization: `Bearer ${token}`, origin: "https://evil.example" },
    });
    expect(bearer.statusCode).toBe(204);
    expect((await me(t, token)).statusCode).toBe(401);
  });

  // Regression (login CSRF): a page on another site must not be able to auto-submit a form that
  // signs the victim's browser into the attacker's account; scripts and CLIs send no Origin.
  it("a cross-site form POST to /api/auth/login does not sign the browser in", async () => {
    t = await createTestApp(dialect);
    await t.createUser("attacker@example.com", RIGHT);
    const response = await t.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: "email=attacker%40example.com&password=right-password",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(response.headers["set-cookie"]).toBeUndefined();
    expect(response.statusCode).toBe(403);
  });

  it("a temporary lock keeps the user's sessions; disabling ends them", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "2" } });
    const user = await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    for (const guess of ["guess-1", "guess-2"]) expect((await postLogin(t.app, "ann@example.com", guess)).statusCode).toBe(401);
    expect((await viewOf(t, "ann@example.com")).status).toBe("locked");
    expect((await me(t, token)).statusCode).toBe(200);

    expect((await disableUser(t.auth, user.id, CLI_ACTOR)).ok).toBe(true);
    expect((await me(t, token)).statusCode).toBe(401);
    expect(await t.auth.database.db.selectFrom("sessions").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
  });
});
