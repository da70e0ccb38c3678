import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postLogin, type TestApp } from "../support/app.ts";
import { ADMIN_PASSWORD, bearer, errorCode, get, signIn, USER_PASSWORD, withAdmin, type Session } from "./support.ts";

const EVIL = "https://evil.example";
const PUBLIC_URL = "https://auth.example.com";

// CSRF does not depend on the storage, so one dialect is enough.
describe("CSRF protection of cookie-authenticated state changes", () => {
  let t: TestApp;
  let admin: Session;
  let targetId: string;
  beforeEach(async () => {
    ({ t, admin } = await withAdmin("sqlite", { DEADBOLT_PUBLIC_URL: PUBLIC_URL }));
    targetId = (await t.createUser("target@example.com", USER_PASSWORD)).id;
  });
  afterEach(async () => t?.close());

  const disable = (headers: Record<string, string>) =>
    t.app.inject({ method: "POST", url: `/api/admin/users/${targetId}/disable`, headers });
  const targetStatus = async () => (await get(t, admin, `/api/admin/users/${targetId}`)).json<{ status: string }>().status;

  it("refuses a cookie-authenticated POST from another origin with 403 forbidden, and does nothing", async () => {
    const response = await disable({ cookie: admin.cookie, origin: EVIL });
    expect(response.statusCode).toBe(403);
    expect(errorCode(response)).toBe("forbidden");
    expect(await targetStatus()).toBe("active");
    // The classic attack: an auto-submitted HTML form.
    const form = await t.app.inject({
      method: "POST", url: "/api/admin/users", payload: "email=planted%40example.com&role=admin",
      headers: { cookie: admin.cookie, origin: EVIL, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.statusCode).toBe(403);
    expect((await get(t, admin, "/api/admin/users?q=planted")).json<{ users: unknown[] }>().users).toEqual([]);
  });

  it("accepts the same cookie request from DEADBOLT_PUBLIC_URL's origin", async () => {
    const response = await disable({ cookie: admin.cookie, origin: PUBLIC_URL });
    expect(response.statusCode, response.body).toBe(200);
    expect(await targetStatus()).toBe("disabled");
  });

  it("accepts an origin on the request's own host (the app reached by another name)", async () => {
    const response = await disable({ cookie: admin.cookie, host: "deadbolt.internal:8080", origin: "http://deadbolt.internal:8080" });
    expect(response.statusCode, response.body).toBe(200);
    const other = await disable({ cookie: admin.cookie, host: "deadbolt.internal:8080", origin: "http://deadbolt.internal:9090" });
    expect(other.statusCode).toBe(403);
  });

  it("exempts Bearer-authenticated calls, with or without an Origin", async () => {
    expect((await disable({ ...bearer(admin), origin: EVIL })).statusCode).toBe(200);
    const enable = await t.app.inject({ method: "POST", url: `/api/admin/users/${targetId}/enable`, headers: bearer(admin) });
    expect(enable.statusCode).toBe(200);
    // A malformed Authorization header does not exempt a cookie.
    expect((await disable({ authorization: "Basic abc", cookie: admin.cookie, origin: EVIL })).statusCode).toBe(403);
  });

  it("judges by Sec-Fetch-Site, then Referer, when there is no Origin", async () => {
    for (const site of ["cross-site", "same-site"]) {
      expect((await disable({ cookie: admin.cookie, "sec-fetch-site": site })).statusCode, site).toBe(403);
    }
    expect((await disable({ cookie: admin.cookie, referer: `${EVIL}/page` })).statusCode).toBe(403);
    expect((await disable({ cookie: admin.cookie, referer: "not a url" })).statusCode).toBe(403);
    expect((await disable({ cookie: admin.cookie, origin: "null" })).statusCode).toBe(403);
    expect(await targetStatus()).toBe("active");
    expect((await disable({ cookie: admin.cookie, "sec-fetch-site": "same-origin", referer: `${PUBLIC_URL}/admin` })).statusCode).toBe(200);
  });

  it("lets a non-browser client holding the cookie (no Origin, Referer or Sec-Fetch-Site) through", async () => {
    expect((await disable({ cookie: admin.cookie })).statusCode).toBe(200);
  });

  it("does not touch safe methods; sign-in is checked even without a cookie (login CSRF)", async () => {
    const read = await t.app.inject({ method: "GET", url: "/api/admin/users", headers: { cookie: admin.cookie, origin: EVIL } });
    expect(read.statusCode).toBe(200);
    const crossSite = await postLogin(t.app, "target@example.com", USER_PASSWORD, { origin: EVIL });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.headers["set-cookie"]).toBeUndefined();
    expect((await postLogin(t.app, "target@example.com", USER_PASSWORD)).statusCode).toBe(200);
  });

  it("protects logout and password change the same way", async () => {
    const me = () => t.app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(admin) });
    const logout = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { cookie: admin.cookie, origin: EVIL } });
    expect(logout.statusCode).toBe(403);
    expect((await me()).statusCode).toBe(200);

    const change = (origin: string) => t.app.inject({
      method: "POST", url: "/api/auth/password/change", headers: { cookie: admin.cookie, origin },
      payload: { currentPassword: ADMIN_PASSWORD, newPassword: "attacker-chosen-1" },
    });
    expect((await change(EVIL)).statusCode).toBe(403);
    expect((await postLogin(t.app, "root@example.com", ADMIN_PASSWORD)).statusCode).toBe(200);
    expect((await change(PUBLIC_URL)).statusCode).toBe(204);

    const user = await signIn(t, "target@example.com", USER_PASSWORD);
    const own = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { cookie: user.cookie, origin: PUBLIC_URL } });
    expect(own.statusCode).toBe(204);
    expect((await t.app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(user) })).statusCode).toBe(401);
  });
});
