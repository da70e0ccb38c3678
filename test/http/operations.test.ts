import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { me, metricValue, scrape, signIn } from "./helpers.ts";

const RIGHT = "right-password";
const UNAVAILABLE = { error: "service_unavailable", message: "The service is temporarily unavailable. Try again shortly." };
const NOT_READY = { error: "service_unavailable", message: "The database is unreachable." };

describe.each(DIALECTS)("operations endpoints (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("/healthz and /readyz answer 200", async () => {
    t = await createTestApp(dialect);
    const health = await t.app.inject({ method: "GET", url: "/healthz" });
    expect([health.statusCode, health.json()]).toEqual([200, { status: "ok" }]);
    const ready = await t.app.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: "ready" }]);
  });

  it("/metrics counts login outcomes, real and dummy verifications and lockouts", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "2" } });
    await t.createUser("ann@example.com", RIGHT);
    const response = await t.management.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain("# TYPE deadbolt_login_attempts_total counter");
    expect(response.body).toContain("# TYPE deadbolt_password_verifications_total counter");

    await signIn(t, "ann@example.com", RIGHT);
    for (const [email, password] of [
      ["ann@example.com", "guess-1"], ["nobody@example.com", "guess"], ["ann@example.com", "guess-2"], ["ann@example.com", RIGHT],
    ] as const) {
      expect((await postLogin(t.app, email, password)).statusCode).toBe(401);
    }
    const text = await scrape(t);
    const logins = (outcome: string) => metricValue(text, "deadbolt_login_attempts_total", { outcome });
    const verifications = (kind: string) => metricValue(text, "deadbolt_password_verifications_total", { kind });
    expect({
      succeeded: logins("succeeded"), wrong_password: logins("wrong_password"), unknown_user: logins("unknown_user"),
      locked: logins("locked"), disabled: logins("disabled"),
    }).toEqual({ succeeded: 1, wrong_password: 2, unknown_user: 1, locked: 1, disabled: 0 });
    expect({ real: verifications("real"), dummy: verifications("dummy") }).toEqual({ real: 3, dummy: 2 });
    expect(metricValue(text, "deadbolt_lockouts_total", { factor: "password", action: "locked" })).toBe(1);
  });

  it("with the database closed: /readyz 503, logins and sessions fail closed with 503, /healthz stays 200", async () => {
    t = await createTestApp(dialect);
    await t.createUser("ann@example.com", RIGHT);
    const token = await signIn(t, "ann@example.com", RIGHT);
    await t.auth.database.close();

    const ready = await t.app.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([503, NOT_READY]);
    for (const password of [RIGHT, "guess"]) {
      const login = await postLogin(t.app, "ann@example.com", password);
      expect([login.statusCode, login.json()]).toEqual([503, UNAVAILABLE]);
      expect(login.headers["retry-after"]).toBe("5");
      expect(login.headers["set-cookie"]).toBeUndefined();
    }
    const session = await me(t, token);
    expect([session.statusCode, session.json()]).toEqual([503, UNAVAILABLE]);
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("/openapi.json describes the auth API", async () => {
    t = await createTestApp(dialect);
    const response = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(response.statusCode).toBe(200);
    const doc = response.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      "/healthz", "/readyz", "/api/auth/login", "/api/auth/me", "/api/auth/logout", "/api/auth/password/change",
    ]));
    expect(Object.keys(doc.paths["/api/auth/login"] ?? {})).toEqual(["post"]);
    expect(JSON.stringify(doc.paths["/api/auth/login"]?.post?.requestBody)).toContain('"required":["email","password"]');
    expect((await t.app.inject({ method: "GET", url: "/docs" })).statusCode).toBe(200);
  });
});
