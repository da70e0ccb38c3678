/**
 * Issue 8: fuzz every route of /openapi.json (read at run time, so routes added later are
 * covered), with and without an admin session, on both dialects. Bounded and seeded. Asserts:
 * no 5xx, a 400 changes no event, and the server still answers afterwards.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const RUNS = 300;
const SEED = 8;

const nasty = fc.oneof(
  fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("\u0000", "a\u0000b@example.com", "%00", "\uFFFF", "\uD800", "../../etc/passwd", "' OR 1=1 --", "x".repeat(5_000), "9".repeat(40), "-1", "1e309", "null", "[]", "{}"),
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
);
const bodyArb = fc.oneof(fc.dictionary(fc.constantFrom("email", "password", "token", "code", "mfaToken", "role", "note", "deviceToken", "currentPassword", "newPassword", "q", "x"), nasty, { maxKeys: 4, noNullPrototype: true }), nasty);
const enc = (value: unknown): string => {
  try {
    return encodeURIComponent(text(value));
  } catch {
    return "%ED%A0%80"; // a lone surrogate: bytes that are not UTF-8, sent as they are
  }
};
const text = (value: unknown): string => (typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));

interface Route { readonly method: string; readonly path: string }

describe.each(DIALECTS)("fuzz over /openapi.json (%s)", (dialect) => {
  let t: TestApp;
  let routes: Route[];
  let adminToken: string;
  let requests = 0;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.createUser("admin@example.com", "an admin passphrase", "admin");
    const login = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: "admin@example.com", password: "an admin passphrase" } });
    adminToken = (login.json() as { token: string }).token;
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
  }, 60_000);
  afterAll(async () => {
    console.log(`fuzz ${dialect}: ${requests} requests over ${routes.length} routes`);
    await t?.close();
  });

  it("no 5xx, malformed requests change no event, and the server still answers", async () => {
    expect(routes.length).toBeGreaterThan(10);
    const seen5xx: string[] = [];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...routes), nasty, bodyArb, fc.constantFrom("json", "form", "text", "none"), fc.constantFrom("none", "admin", "bad"), fc.boolean(),
      async (route, param, body, kind, who, encode) => {
        let path = route.path.replace(/\{[^}]+\}|:[A-Za-z]+/g, () => enc(param));
        if (encode) path = path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
        const headers: Record<string, string> = {};
        if (who === "admin") headers.authorization = `Bearer ${adminToken}`;
        if (who === "bad") { headers.authorization = "Bearer \u00ff\u0000bad"; headers.cookie = "deadbolt_session=%00%zz; deadbolt_device=x"; }
        let payload: string | undefined;
        if (route.method !== "GET" && route.method !== "HEAD" && kind !== "none") {
          if (kind === "json") { headers["content-type"] = "application/json"; payload = JSON.stringify(body); }
          else if (kind === "form") { headers["content-type"] = "application/x-www-form-urlencoded"; payload = typeof body === "object" && body !== null ? new URLSearchParams(Object.entries(body).map(([k, v]) => [k, text(v)] as [string, string])).toString() : text(body); }
          else { headers["content-type"] = "text/plain"; payload = text(body); }
        }
        const before = (await t.auth.database.db.selectFrom("events").select("id").execute()).length;
        const response = await t.app.inject({ method: route.method as "GET", url: `${path}?q=${enc(param)}&since=${enc(param)}&limit=${enc(param)}`, headers, ...(payload === undefined ? {} : { payload }) });
        requests++;
        if (response.statusCode >= 500 && response.statusCode !== 503) seen5xx.push(`${route.method} ${path} ${response.statusCode} ${response.body.slice(0, 200)}`);
        if (response.statusCode === 400) {
          const after = (await t.auth.database.db.selectFrom("events").select("id").execute()).length;
          expect(after, `${route.method} ${path}`).toBe(before);
        }
      },
    ), { numRuns: RUNS, seed: SEED, endOnFailure: true });
    expect(seen5xx).toEqual([]);
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  }, 240_000);
});
