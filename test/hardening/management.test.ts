/**
 * Issue 8, defect 1: /metrics tells which e-mails exist (its login counter's `outcome` label),
 * so it is served only by the management listener; the public port answers 404 for it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { createTestDatabase, DIALECTS, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";

describe.each(DIALECTS)("management listener (%s)", (dialect) => {
  let t: TestApp | undefined;
  let server: RunningServer | undefined;
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    await server?.close();
    await database?.drop();
    t = server = database = undefined;
  });

  it("the public app has no /metrics (404, not in /openapi.json); the management app has it", async () => {
    t = await createTestApp(dialect);
    await t.createUser("known@example.com", "a right passphrase");
    await postLogin(t.app, "known@example.com", "wrong guess");
    await postLogin(t.app, "unknown@example.com", "wrong guess");
    for (const url of ["/metrics", "/metrics/", "/%6detrics", "/METRICS"]) {
      const response = await t.app.inject({ method: "GET", url });
      expect([url, response.statusCode, response.json()]).toEqual([url, 404, { error: "not_found", message: "Not found." }]);
    }
    const paths = Object.keys((await t.app.inject({ method: "GET", url: "/openapi.json" })).json().paths as object);
    expect(paths).not.toContain("/metrics");
    const metrics = await t.management.inject({ method: "GET", url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('deadbolt_login_attempts_total{outcome="unknown_user"} 1');
    expect(metrics.body).toContain('deadbolt_login_attempts_total{outcome="wrong_password"} 1');
    for (const url of ["/healthz", "/readyz"]) expect((await t.management.inject({ method: "GET", url })).statusCode).toBe(200);
  });

  it("serve opens the management port beside the public one; DEADBOLT_MANAGEMENT_PORT=0 opens none", async () => {
    database = await createTestDatabase(dialect);
    const env = {
      DEADBOLT_DATABASE_URL: database.url, DEADBOLT_SECRET_KEY: TEST_SECRET_KEY, DEADBOLT_LOG_LEVEL: "silent", DEADBOLT_PORT: "0",
    };
    const config = loadConfig(env);
    expect(config.management).toEqual({ host: "127.0.0.1", port: 9464 });
    server = await startServer({ ...config, management: { host: "127.0.0.1", port: 0 } });
    expect(server.managementUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.managementUrl).not.toBe(server.url);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const scraped = await fetch(`${server.managementUrl!}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("# TYPE deadbolt_login_attempts_total counter");
    expect((await fetch(`${server.managementUrl!}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.close();
    server = await startServer(loadConfig({ ...env, DEADBOLT_MANAGEMENT_PORT: "0" }));
    expect(server.managementUrl).toBeNull();
  });
});

describe("management configuration", () => {
  it("refuses a bad port or host with one line naming the variable", () => {
    expect(() => loadConfig({ DEADBOLT_MANAGEMENT_PORT: "70000" })).toThrow(/^DEADBOLT_MANAGEMENT_PORT="70000" is invalid/);
    expect(() => loadConfig({ DEADBOLT_MANAGEMENT_HOST: "a b" })).toThrow(/^DEADBOLT_MANAGEMENT_HOST="a b" is invalid/);
    expect(loadConfig({ DEADBOLT_MANAGEMENT_HOST: "0.0.0.0", DEADBOLT_MANAGEMENT_PORT: "9000" }).management)
      .toEqual({ host: "0.0.0.0", port: 9000 });
  });
});
