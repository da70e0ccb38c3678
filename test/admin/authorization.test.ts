import type { HTTPMethods } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { bearer, errorCode, signIn, USER_PASSWORD, withAdmin, type Session } from "./support.ts";

interface Route {
  readonly method: string;
  readonly url: string;
}

/**
 * Every route of the running app, read from `printRoutes({ commonPrefix: false })`: a tree
 * whose lines are "<indent>├── <segment> (GET, HEAD)", each segment appended to its parent's.
 */
function registeredRoutes(tree: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    stack.length = (match[1] ?? "").length / 4;
    stack.push(match[2] ?? "");
    for (const method of (match[3] ?? "").split(",").map((m) => m.trim()).filter(Boolean)) {
      routes.push({ method, url: stack.join("") });
    }
  }
  return routes;
}

describe.each(DIALECTS)("every /api/admin route requires an admin (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  let user: Session;
  let adminRoutes: Route[];
  beforeEach(async () => {
    ({ t, admin } = await withAdmin(dialect));
    await t.createUser("plain@example.com", USER_PASSWORD);
    user = await signIn(t, "plain@example.com", USER_PASSWORD);
    await t.app.ready();
    adminRoutes = registeredRoutes(t.app.printRoutes({ commonPrefix: false })).filter((r) => r.url.startsWith("/api/admin"));
  });
  afterEach(async () => t?.close());

  const call = (route: Route, headers: Record<string, string>) => t.app.inject({
    method: route.method as HTTPMethods,
    // A real id, so a refusal cannot be a 404 in disguise.
    url: route.url.replaceAll(":id", user.userId),
    headers,
  });

  it("finds the admin routes in the router (the walk below is not vacuous)", () => {
    const names = adminRoutes.map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      "GET /api/admin/users", "POST /api/admin/users", "GET /api/admin/users/:id",
      "POST /api/admin/users/:id/unlock", "POST /api/admin/users/:id/enable", "POST /api/admin/users/:id/disable",
      "GET /api/admin/events", "GET /api/admin/stats",
    ]) expect(names).toContain(expected);
    // HEAD mirrors every GET and must be guarded too.
    expect(names).toContain("HEAD /api/admin/stats");
  });

  it("answers 401 unauthenticated without a session or with an unknown token", async () => {
    for (const route of adminRoutes) {
      const attempts: Array<Record<string, string>> = [
        {}, { authorization: "Bearer not-a-real-session-token-at-all" }, { cookie: "deadbolt_session=forged-cookie-value-1234567" },
      ];
      for (const headers of attempts) {
        const response = await call(route, headers);
        expect(response.statusCode, `${route.method} ${route.url} ${JSON.stringify(headers)}`).toBe(401);
        if (route.method !== "HEAD") expect(errorCode(response)).toBe("unauthenticated");
      }
    }
  });

  it("answers 403 forbidden to a signed-in non-admin, by Bearer or by cookie, and changes nothing", async () => {
    for (const route of adminRoutes) {
      for (const headers of [bearer(user), { cookie: user.cookie }]) {
        const response = await call(route, headers);
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(403);
        if (route.method !== "HEAD") expect(errorCode(response)).toBe("forbidden");
      }
    }
    // The non-admin's POST …/disable on itself was refused before it ran.
    expect((await t.app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(user) })).statusCode).toBe(200);
  });

  it("lets the admin through every route (the guard is not a blanket refusal)", async () => {
    for (const route of adminRoutes) {
      const response = await call(route, bearer(admin));
      expect([401, 403], `${route.method} ${route.url} → ${response.statusCode} ${response.body}`).not.toContain(response.statusCode);
      expect(response.statusCode).toBeLessThan(500);
    }
  });

  it("refuses an admin whose session ended when they were disabled", async () => {
    const other = await t.createUser("second-admin@example.com", USER_PASSWORD, "admin");
    const second = await signIn(t, "second-admin@example.com", USER_PASSWORD);
    const disabled = await t.app.inject({ method: "POST", url: `/api/admin/users/${other.id}/disable`, headers: bearer(admin) });
    expect(disabled.statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/api/admin/users", headers: bearer(second) })).statusCode).toBe(401);
  });
});

describe("OpenAPI", () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("documents every /api/admin route with the admin tag and its schemas", async () => {
    ({ t } = await withAdmin("sqlite"));
    await t.app.ready();
    const spec = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json<{
      paths: Record<string, Record<string, { tags?: string[]; responses?: Record<string, unknown> }>>;
    }>();
    const routes = registeredRoutes(t.app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.url.startsWith("/api/admin") && r.method !== "HEAD");
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, "{$1}");
      const operation = spec.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${path} in /openapi.json`).toBeDefined();
      expect(operation?.tags).toEqual(["admin"]);
      expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(["401", "403"]));
    }
    expect((await t.app.inject({ method: "GET", url: "/docs" })).statusCode).toBeLessThan(400);
  });
});
