/** Who may see and use the console pages: the admin session cookie, nothing else. */
import type { LightMyRequestResponse } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { toUserView } from "../../src/auth/index.ts";
import { findUserByEmail } from "../../src/store/index.ts";
import { failLogins, signIn, USER_PASSWORD, withAdmin, type Session } from "../admin/support.ts";
import type { TestApp } from "../support/app.ts";

const PAGES = ["/admin", "/admin?window=7d", "/admin/users", "/admin/users?status=locked", "/admin/events"];
const VICTIM = "victim@example.com";

function form(t: TestApp, url: string, headers: Record<string, string>, body = ""): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "POST", url, payload: body, headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });
}

describe("console pages: access", () => {
  let t: TestApp;
  let admin: Session;
  let victimId: string;
  afterEach(async () => t?.close());

  async function setUp(): Promise<void> {
    ({ t, admin } = await withAdmin("sqlite", { DEADBOLT_LOCKOUT_THRESHOLD: "3" }));
    victimId = (await t.createUser(VICTIM, USER_PASSWORD)).id;
    await failLogins(t, VICTIM, 3);
  }

  async function victimStatus(): Promise<string> {
    const row = await findUserByEmail(t.auth.database.db, VICTIM);
    return row ? toUserView(row, t.auth.policy, t.clock.now(), 0).status : "missing";
  }

  it("sends a visitor without a session (or with a dead one, or only a Bearer token) to /login", async () => {
    await setUp();
    for (const url of [...PAGES, `/admin/users/${victimId}`]) {
      for (const headers of [{}, { cookie: "deadbolt_session=not-a-session" }, { authorization: `Bearer ${admin.token}` }]) {
        const response = await t.app.inject({ method: "GET", url, headers });
        expect(response.statusCode, url).toBe(303);
        expect(response.headers.location).toBe("/login");
      }
    }
    const post = await form(t, `/admin/users/${victimId}/unlock`, {});
    expect(post.statusCode).toBe(303);
    expect(post.headers.location).toBe("/login");
    expect(await victimStatus()).toBe("locked");
  });

  it("answers a signed-in non-admin with a 403 page, and changes nothing", async () => {
    await setUp();
    await t.createUser("plain@example.com", USER_PASSWORD);
    const plain = await signIn(t, "plain@example.com", USER_PASSWORD);
    for (const url of [...PAGES, `/admin/users/${victimId}`]) {
      const response = await t.app.inject({ method: "GET", url, headers: { cookie: plain.cookie } });
      expect(response.statusCode, url).toBe(403);
      expect(response.headers["content-type"]).toContain("text/html");
      expect(response.body).toContain("This page is for administrators");
      expect(response.body).not.toContain(VICTIM);
    }
    for (const action of ["unlock", "enable", "disable"]) {
      const response = await form(t, `/admin/users/${victimId}/${action}`, { cookie: plain.cookie }, "back=%2Fadmin%2Fusers");
      expect(response.statusCode, action).toBe(403);
    }
    expect(await victimStatus()).toBe("locked");
  });

  it("lets the admin in, with the strict CSP, no inline script or style, and a same-origin Referrer-Policy", async () => {
    await setUp();
    for (const url of [...PAGES, `/admin/users/${victimId}`]) {
      const response = await t.app.inject({ method: "GET", url, headers: { cookie: admin.cookie } });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(response.headers["cache-control"]).toBe("no-store");
      // Under no-referrer, Chromium sends `Origin: null` on the console's own form POSTs.
      expect(response.headers["referrer-policy"]).toBe("same-origin");
      expect(response.body).not.toMatch(/<script|\sstyle=|<style|\son[a-z]+=/i);
      expect(response.body).not.toMatch(/(src|href)="https?:/);
    }
  });

  it("refuses a cross-site form POST carrying the admin's cookie (CSRF), and accepts the same-origin one", async () => {
    await setUp();
    const url = `/admin/users/${victimId}/unlock`;
    const evil = await form(t, url, { cookie: admin.cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(evil.statusCode).toBe(403);
    expect(await victimStatus()).toBe("locked");
    const own = await form(t, url, { cookie: admin.cookie, origin: new URL(t.config.publicUrl).origin, "sec-fetch-site": "same-origin" });
    expect(own.statusCode).toBe(303);
    expect(await victimStatus()).toBe("active");
  });

  it("keeps the console out of the OpenAPI document", async () => {
    await setUp();
    const paths = Object.keys((await t.app.inject({ method: "GET", url: "/openapi.json" })).json<{ paths: object }>().paths);
    expect(paths.some((path) => path.startsWith("/admin"))).toBe(false);
    expect(paths).toContain("/api/admin/users");
  });
});
