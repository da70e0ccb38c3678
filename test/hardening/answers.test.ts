/**
 * Issue 8, defects 2, 9, 10, 11 and 12: CSRF decided on the matched route (percent-encoding
 * cannot dodge it), no log flood from GET /account, no-store on answers that carry tokens,
 * 404 (not 400) under /assets/, and a favicon.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/http/app.ts";
import { createThrottle } from "../../src/http/throttle.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const EMAIL = "answers@example.com";
const RIGHT = "a right passphrase";
const CROSS_SITE = { origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "application/json" };

describe.each(DIALECTS)("public answers (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("login CSRF: every spelling of the sign-in routes is refused cross-site, and signs nobody in", async () => {
    t = await createTestApp(dialect);
    await t.createUser(EMAIL, RIGHT);
    for (const url of ["/api/auth/login", "/api/auth/%6cogin", "/api/auth/%6C%6F%67%69%6E", "/api/%61uth/login", "/api/auth/login?x=1"]) {
      const response = await t.app.inject({ method: "POST", url, headers: CROSS_SITE, payload: { email: EMAIL, password: RIGHT } });
      expect([url, response.statusCode, response.headers["set-cookie"]]).toEqual([url, 403, undefined]);
    }
    const form = await t.app.inject({
      method: "POST", url: "/%6cogin", headers: { ...CROSS_SITE, "content-type": "application/x-www-form-urlencoded" },
      payload: `email=${encodeURIComponent(EMAIL)}&password=${encodeURIComponent(RIGHT)}`,
    });
    expect(form.statusCode).toBe(403);
    const succeeded = await t.auth.database.db.selectFrom("events").select("id").where("type", "=", "login.succeeded").execute();
    expect(succeeded).toEqual([]);
  });

  it("answers with a token or a secret are Cache-Control: no-store; the favicon is cacheable", async () => {
    t = await createTestApp(dialect);
    await t.createUser(EMAIL, RIGHT);
    const login = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: EMAIL, password: RIGHT } });
    expect(login.statusCode).toBe(200);
    expect(login.headers["cache-control"]).toBe("no-store");
    const token = (login.json() as { token: string }).token;
    const auth = { authorization: `Bearer ${token}` };
    const setup = await t.app.inject({ method: "POST", url: "/api/auth/mfa/totp/setup", headers: auth });
    expect([setup.statusCode, setup.headers["cache-control"]]).toEqual([200, "no-store"]);
    for (const url of ["/api/auth/me", "/login", "/openapi.json"]) {
      expect((await t.app.inject({ method: "GET", url, headers: auth })).headers["cache-control"]).toBe("no-store");
    }
    const failed = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: EMAIL, password: "wrong one" } });
    expect(failed.headers["cache-control"]).toBe("no-store");
    const favicon = await t.app.inject({ method: "GET", url: "/favicon.ico" });
    expect([favicon.statusCode, favicon.headers["content-type"]]).toEqual([200, "image/x-icon"]);
    expect(favicon.rawPayload.subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
  });

  it("/assets/ and traversal under it are 404 not_found, never 400", async () => {
    t = await createTestApp(dialect);
    for (const url of ["/assets/", "/assets", "/assets/..%2f..%2fpackage.json", "/assets/../../package.json", "/assets/%2e%2e/%2e%2e/package.json", "/assets/nope.css", "/assets/%00"]) {
      const response = await t.app.inject({ method: "GET", url });
      expect([url, response.statusCode]).toEqual([url, 404]);
      expect(response.body).not.toContain("deadbolt-dummy");
    }
    expect((await t.app.inject({ method: "GET", url: "/assets/app.css" })).statusCode).toBe(200);
  });

  it("GET /account without a session redirects once and logs nothing (no 'Reply was already sent')", async () => {
    t = await createTestApp(dialect);
    const lines: string[] = [];
    const logger = pino({ level: "info" }, new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
    const throttle = createThrottle({ perMinute: 0, redisUrl: null });
    const app = await buildApp(t.config, { auth: t.auth, metrics: t.metrics, throttle, logger });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await app.inject({ method: "GET", url: "/account" });
        expect([response.statusCode, response.headers.location]).toEqual([303, "/login"]);
      }
      const loud = lines.filter((line) => /"level":(40|50|60)/.test(line));
      expect(loud).toEqual([]);
    } finally {
      await app.close();
      await throttle.close();
    }
  });
});
