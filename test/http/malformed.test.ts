import type { InjectOptions } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, scrape, viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const EMAIL = "mal@example.com";

interface Malformed {
  readonly name: string;
  readonly request: InjectOptions;
  readonly status: number;
  readonly error: string;
}

function json(payload: unknown): InjectOptions {
  return { method: "POST", url: "/api/auth/login", payload: JSON.stringify(payload), headers: { "content-type": "application/json" } };
}

function raw(body: string, contentType?: string): InjectOptions {
  return { method: "POST", url: "/api/auth/login", payload: body, headers: contentType === undefined ? {} : { "content-type": contentType } };
}

const INVALID = (name: string, request: InjectOptions): Malformed => ({ name, request, status: 400, error: "invalid_request" });

const MALFORMED: readonly Malformed[] = [
  INVALID("missing email", json({ password: "guess" })),
  INVALID("missing password", json({ email: EMAIL })),
  INVALID("missing both", json({})),
  INVALID("empty email", json({ email: "", password: "guess" })),
  INVALID("empty password", json({ email: EMAIL, password: "" })),
  INVALID("blank email", json({ email: "   ", password: "guess" })),
  INVALID("email without @", json({ email: "mal.example.com", password: "guess" })),
  INVALID("email without @, unknown", json({ email: "nobody", password: "guess" })),
  INVALID("email longer than 254", json({ email: `${"m".repeat(250)}@example.com`, password: "guess" })),
  INVALID("password longer than 1024", json({ email: EMAIL, password: "p".repeat(1025) })),
  INVALID("object email", json({ email: { address: EMAIL }, password: "guess" })),
  INVALID("object password", json({ email: EMAIL, password: { value: "guess" } })),
  INVALID("null password", json({ email: EMAIL, password: null })),
  INVALID("null email", json({ email: null, password: "guess" })),
  INVALID("array body", json([EMAIL, "guess"])),
  INVALID("string body", json("guess")),
  INVALID("invalid JSON", raw(`{"email":"${EMAIL}","password":`, "application/json")),
  INVALID("empty JSON body", raw("", "application/json")),
  INVALID("__proto__ key", raw(`{"email":"${EMAIL}","password":"guess","__proto__":{"admin":true}}`, "application/json")),
  INVALID("JSON sent as text/plain", raw(JSON.stringify({ email: EMAIL, password: "guess" }), "text/plain")),
  { name: "no content type", request: raw("email=x"), status: 415, error: "unsupported_media_type" },
  { name: "XML", request: raw(`<login email="${EMAIL}" password="guess"/>`, "application/xml"), status: 415, error: "unsupported_media_type" },
  {
    name: "body over 64 KiB",
    request: json({ email: EMAIL, password: "guess", padding: "x".repeat(70_000) }),
    status: 413,
    error: "payload_too_large",
  },
];

/** Non-string fields: the schema types them as strings, so they are malformed too (SPEC rule 9). */
const NOT_STRINGS: readonly Malformed[] = [
  INVALID("number password", json({ email: EMAIL, password: 12345678 })),
  INVALID("boolean password", json({ email: EMAIL, password: true })),
  INVALID("one-element array password", json({ email: EMAIL, password: ["guess"] })),
  INVALID("one-element array email", json({ email: [EMAIL], password: "guess" })),
];

describe.each(DIALECTS)("malformed login attempts (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function footprint(): Promise<{ events: number; metrics: string; failures: number; lastFailedAt: string | null }> {
    const view = await viewOf(t, EMAIL);
    const metrics = (await scrape(t)).split("\n").filter((l) => l.startsWith("deadbolt_login_attempts_total") ||
      l.startsWith("deadbolt_password_verifications_total")).join("\n");
    return { events: (await events(t)).length, metrics, failures: view.failedPasswordAttempts, lastFailedAt: view.lastFailedAt };
  }

  async function expectRejected(cases: readonly Malformed[]): Promise<void> {
    for (const c of cases) {
      const response = await t.app.inject(c.request);
      expect(response.statusCode, `${c.name}: ${response.body}`).toBe(c.status);
      const body = response.json() as Record<string, unknown>;
      expect(Object.keys(body).sort(), c.name).toEqual(["error", "message"]);
      expect(body.error, c.name).toBe(c.error);
      expect(typeof body.message === "string" && body.message.length > 0, c.name).toBe(true);
    }
  }

  it("each is a 4xx {error, message} with the exact code", async () => {
    t = await createTestApp(dialect);
    await t.createUser(EMAIL, RIGHT);
    await expectRejected(MALFORMED);
  });

  it("they count as nothing: no event, no failure, no metric; threshold-1 real failures still do not lock", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    await t.createUser(EMAIL, RIGHT);
    const before = await footprint();
    expect(before.failures).toBe(0);
    for (let round = 0; round < 3; round++) await expectRejected(MALFORMED);
    expect(await footprint()).toEqual(before);

    for (const guess of ["guess-1", "guess-2"]) expect((await postLogin(t.app, EMAIL, guess)).statusCode).toBe(401);
    const view = await viewOf(t, EMAIL);
    expect({ status: view.status, failures: view.failedPasswordAttempts }).toEqual({ status: "active", failures: 2 });
    expect((await postLogin(t.app, EMAIL, RIGHT)).statusCode).toBe(200);
  });

  // Regression: bodies used to be validated by an Ajv with `coerceTypes: "array"`, which turned a
  // number, a boolean or a one-element array into a string: `{"password": 12345678}` was checked
  // as the password "12345678" and counted as a failed attempt instead of a 400 (SPEC rule 9).
  it("non-string email or password (number, boolean, one-element array) is a 400 that counts as nothing", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    await t.createUser(EMAIL, RIGHT);
    const before = await footprint();
    await expectRejected(NOT_STRINGS);
    expect(await footprint()).toEqual(before);
    expect((await postLogin(t.app, EMAIL, RIGHT)).statusCode).toBe(200);
  });

  it("a many-element or nested array field is a 400 that counts as nothing", async () => {
    // Shapes that no coercion could turn into a string.
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    await t.createUser(EMAIL, RIGHT);
    const before = await footprint();
    await expectRejected([
      INVALID("two-element array password", json({ email: EMAIL, password: ["a", "b"] })),
      INVALID("nested array email", json({ email: [[EMAIL]], password: "guess" })),
    ]);
    expect(await footprint()).toEqual(before);
  });
});
