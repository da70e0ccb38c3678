/**
 * Issue 8: fuzz every route of /openapi.json and every page and form (both read at run time,
 * so routes added later are covered), signed out, as a user, as an admin and with broken
 * credentials, on both dialects. Bounded and seeded. The values are the ones that broke
 * deadbolt before: NUL and other control characters, lone surrogates, huge strings,
 * out-of-range dates and numbers, wrong types, bad content types, percent-encoded paths.
 * Asserts: no 5xx, a malformed request (400, 413, 415) writes nothing (events, mails,
 * counters, sessions, devices), and the server still answers.
 */
import type { FastifyInstance } from "fastify";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const RUNS = 300;
/** Fixed for `npm test`; DEADBOLT_FUZZ_SEED explores other corners by hand. */
const SEED = Number(process.env.DEADBOLT_FUZZ_SEED ?? 8);
const PASSWORD = "a fuzzing passphrase";

/** Characters that broke one dialect or the other, mixed with the ones e-mails are made of. */
const oddChar = fc.constantFrom(
  "\u0000", "\u0001", "\t", "\n", "\r", "\u001b", "\u001f", "\u007f", "\u0085", "\u009f", "\uD800", "\uDFFF", "\uFFFF", "\u2028",
  "a", "Z", "0", "@", ".", "-", "_", " ", "%", "é", "😀",
);
const oddString = fc.string({ unit: oddChar, maxLength: 30 });
const oddEmail = fc.tuple(oddString, oddString).map(([local, domain]) => `${local}@${domain}.com`);
const huge = fc.constantFrom(
  "x".repeat(5_000), "p".repeat(1_025), "@".repeat(300), `${"a".repeat(250)}@example.com`, "\u0000".repeat(2_000), "%00".repeat(500),
);
/** Dates, durations and numbers beyond every range: since, limit, window, cursors. */
const outOfRange = fc.constantFrom(
  "300000-01-01", "+275760-09-13T00:00:00Z", "-271821-04-20", "0000-01-01", "1969-12-31T23:59:59Z", "10000-01-01", "2026-13-45",
  "-1h", `${"9".repeat(30)}d`, "99999999999d", "1e309", "-1e309", "1e309d", "NaN", "Infinity", "-0", "0x10", "1.5",
  String(2 ** 63), String(Number.MAX_SAFE_INTEGER + 2), "-9223372036854775809",
);
const nasty = fc.oneof(
  { weight: 4, arbitrary: oddString }, { weight: 4, arbitrary: oddEmail }, { weight: 2, arbitrary: huge }, { weight: 3, arbitrary: outOfRange },
  fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("user@example.com", "admin@example.com", "%00", "../../etc/passwd", "' OR 1=1 --", "null", "[]", "{}", "123456", ""),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 63),
  fc.boolean(), fc.constant(null), fc.array(oddString, { maxLength: 3 }), fc.dictionary(oddString, oddString, { maxKeys: 2 }),
);
/**
 * A plausible value for every field of the API and the forms: a request is that, with one or
 * two fields made nasty, so it gets past the first check and reaches the code behind it.
 */
const PLAUSIBLE: Readonly<Record<string, unknown>> = {
  email: "user@example.com", password: "not the password", currentPassword: "not the password", newPassword: "a brand new passphrase",
  confirmPassword: "a brand new passphrase", confirm: "a brand new passphrase", token: "t".repeat(43), code: "123456",
  mfaToken: "m".repeat(43), role: "user", note: "fuzzing", deviceToken: "d".repeat(43), id: "00000000-0000-0000-0000-000000000000",
  back: "/admin/users", name: "An app", redirectUris: ["https://app.example.com/cb"], public: false, interaction: "abc",
};
/** Form fields (pages are not in /openapi.json) and query parameters of pages. */
const FORM_FIELDS = Object.keys(PLAUSIBLE);
const PAGE_QUERY = ["q", "since", "limit", "cursor", "userId", "ip", "email", "type", "status", "window", "token", "interaction"];
/** A User-Agent as a socket can carry it (latin-1), odd bytes included. */
const agentArb = fc.string({ unit: fc.constantFrom("\u0000", "\u0001", "\u007f", "\u0085", "\u00ff", "a", " ", "/"), maxLength: 20 });

const text = (value: unknown): string => (typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));
const enc = (value: unknown): string => {
  try {
    return encodeURIComponent(text(value));
  } catch {
    return "%ED%A0%80"; // a lone surrogate: bytes that are not UTF-8, sent as they are
  }
};

interface Route {
  readonly method: string;
  readonly path: string;
  readonly fields: readonly string[];
  readonly query: readonly string[];
  readonly page: boolean;
}

interface Operation {
  readonly parameters?: readonly { readonly in: string; readonly name: string }[];
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: { readonly properties?: Record<string, unknown> } }> };
}

function apiRoutesOf(doc: { paths: Record<string, Record<string, Operation>> }): Route[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({
    method: method.toUpperCase(), path, page: false,
    fields: Object.keys(op.requestBody?.content?.["application/json"]?.schema?.properties ?? {}),
    query: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
  })));
}

/** Pages and forms: every route Fastify knows that /openapi.json does not list (it hides them). */
function pageRoutes(app: FastifyInstance, api: readonly Route[]): Route[] {
  const listed = new Set(api.map((route) => `${route.method} ${route.path.replace(/\{([^}]+)\}/g, ":$1")}`));
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? "").length / 4;
    const path = `${depth === 0 ? "" : stack[depth - 1]}${match[2]}`.replace(/^\/\//, "/");
    stack[depth] = path;
    for (const method of (match[3] ?? "").split(", ")) {
      if ((method === "GET" || method === "POST") && !listed.has(`${method} ${path}`)) {
        routes.push({ method, path, page: true, fields: method === "POST" ? FORM_FIELDS : [], query: PAGE_QUERY });
      }
    }
  }
  // Static files, documentation and the provider's discovery are other people's code, fuzzed by them.
  return routes.filter((route) => !/^\/(docs|assets|\.well-known|favicon\.ico|openapi\.json|healthz|readyz)|\*/.test(route.path));
}

describe.each(DIALECTS)("fuzz over /openapi.json and every page (%s)", (dialect) => {
  let t: TestApp;
  let apiRoutes: Route[];
  let routes: Route[];
  const tokens: Record<string, string> = {};
  let requests = 0;
  let malformed = 0;
  const statuses = new Map<number, number>();

  async function signIn(email: string): Promise<string> {
    const login = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password: PASSWORD } });
    return (login.json() as { token: string }).token;
  }

  /** Everything a malformed request must leave as it was. */
  async function footprint(): Promise<unknown> {
    const db = t.auth.database.db;
    const [events, outbox, sessions, users, devices] = await Promise.all([
      db.selectFrom("events").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      db.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      db.selectFrom("sessions").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      db.selectFrom("users").select(["id", "version", "password_failures", "mfa_failures", "lockout_count", "locked_until", "disabled_reason"])
        .orderBy("id").execute(),
      db.selectFrom("devices").select(["id", "password_failures", "locked_until"]).orderBy("id").execute(),
    ]);
    return { events: Number(events.n), outbox: Number(outbox.n), sessions: Number(sessions.n), users, devices };
  }

  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.createUser("admin@example.com", PASSWORD, "admin");
    await t.createUser("user@example.com", PASSWORD);
    tokens.admin = await signIn("admin@example.com");
    tokens.user = await signIn("user@example.com");
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as unknown;
    apiRoutes = apiRoutesOf(doc as { paths: Record<string, Record<string, Operation>> });
    routes = [...apiRoutes, ...pageRoutes(t.app, apiRoutes)];
  }, 60_000);
  afterAll(async () => {
    const seen = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(" ");
    console.log(`fuzz ${dialect}: ${requests} requests over ${routes.length} routes (${apiRoutes.length} API), ${malformed} malformed; statuses ${seen}`);
    await t?.close();
  });

  it("no 5xx, malformed requests write nothing, and the server still answers", async () => {
    expect(apiRoutes.length).toBeGreaterThan(10);
    // The forms are found too: the sign-in, account and console ones at least.
    for (const form of ["POST /login", "POST /forgot", "POST /account/mfa/disable", "POST /admin/users/:id/disable", "GET /admin/events"]) {
      expect(routes.map((route) => `${route.method} ${route.path}`)).toContain(form);
    }
    const seen5xx: string[] = [];
    /** A request for one route: its fields plausible, one to three of them (or the whole body) nasty. */
    const requestArb = fc.constantFrom(...routes).chain((route) => fc.record({
      route: fc.constant(route),
      param: fc.oneof({ weight: 3, arbitrary: nasty }, fc.constant("00000000-0000-0000-0000-000000000000")),
      nastyFields: route.fields.length === 0 ? fc.constant({}) : fc.dictionary(fc.constantFrom(...route.fields, "__proto__", "x"), nasty, { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
      wholeBody: fc.option(nasty, { nil: undefined, freq: 8 }),
      query: route.query.length === 0 ? fc.constant({}) : fc.dictionary(fc.constantFrom(...route.query), nasty, { maxKeys: 3, noNullPrototype: true }),
      kind: fc.oneof({ weight: 6, arbitrary: fc.constant(route.page ? "form" : "json") }, fc.constantFrom("json", "form", "text", "none")),
      who: fc.constantFrom("none", "user", "admin", "admin", "bad"),
      encode: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
      agent: fc.option(agentArb, { nil: undefined }),
    }));
    await fc.assert(fc.asyncProperty(requestArb, async ({ route, param, nastyFields, wholeBody, query, kind, who, encode, agent }) => {
        let path = route.path.replace(/\{[^}]+\}|:[A-Za-z]+/g, () => enc(param));
        if (encode) path = path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
        const headers: Record<string, string> = {};
        const token = who === "admin" || who === "user" ? tokens[who] : undefined;
        if (token !== undefined) { headers.authorization = `Bearer ${token}`; headers.cookie = `deadbolt_session=${token}`; }
        if (who === "bad") { headers.authorization = "Bearer \u00ff\u0000bad"; headers.cookie = "deadbolt_session=%00%zz; deadbolt_device=x; deadbolt_mfa=%00"; }
        if (agent !== undefined) headers["user-agent"] = agent;
        const body: unknown = wholeBody !== undefined ? wholeBody
          : { ...Object.fromEntries(route.fields.map((name) => [name, PLAUSIBLE[name] ?? "x"])), ...nastyFields };
        let payload: string | undefined;
        if (route.method !== "GET" && kind !== "none") {
          if (kind === "json") { headers["content-type"] = "application/json"; payload = JSON.stringify(body); }
          else if (kind === "form") { headers["content-type"] = "application/x-www-form-urlencoded"; payload = typeof body === "object" && body !== null ? new URLSearchParams(Object.entries(body).map(([k, v]) => [k, text(v)] as [string, string])).toString() : text(body); }
          else { headers["content-type"] = "text/plain"; payload = text(body); }
        }
        const search = Object.entries(query).map(([key, value]) => `${key}=${enc(value)}`).join("&");
        const before = await footprint();
        const response = await t.app.inject({ method: route.method as "GET", url: search === "" ? path : `${path}?${search}`, headers, ...(payload === undefined ? {} : { payload }) });
        requests++;
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500) seen5xx.push(`${route.method} ${path} ${response.statusCode} ${response.body.slice(0, 200)}`);
        if ([400, 413, 415].includes(response.statusCode)) {
          malformed++;
          expect(await footprint(), `${route.method} ${path}?${search} (${response.statusCode}) wrote something`).toEqual(before);
        }
        // Signing out must not end the fuzzing as that user.
        if (route.path.endsWith("logout") && token !== undefined) tokens[who] = await signIn(`${who}@example.com`);
      },
    ), { numRuns: RUNS, seed: SEED, endOnFailure: true });
    expect(seen5xx).toEqual([]);
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  }, 240_000);
});
