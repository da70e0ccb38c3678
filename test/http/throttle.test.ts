import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const TOO_MANY = { error: "too_many_requests", message: "Too many attempts from this address. Try again later." };

describe.each(DIALECTS)("per-client throttling of failed logins (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  function attempt(email: string, password: string, remoteAddress: string, headers: Record<string, string> = {}) {
    return t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password }, remoteAddress, headers });
  }

  it("after DEADBOLT_THROTTLE_PER_MINUTE failures an address gets 429 with Retry-After, even with the right password", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "3", DEADBOLT_LOCKOUT_THRESHOLD: "10" } });
    await t.createUser("ann@example.com", RIGHT);
    // Successes are not counted against the address.
    for (let i = 0; i < 3; i++) expect((await attempt("ann@example.com", RIGHT, "203.0.113.7")).statusCode).toBe(200);
    expect((await attempt("ann@example.com", "guess-1", "203.0.113.7")).statusCode).toBe(401);
    expect((await attempt("nobody@example.com", "guess-2", "203.0.113.7")).statusCode).toBe(401);
    expect((await attempt("ann@example.com", "guess-3", "203.0.113.7")).statusCode).toBe(401);

    for (const password of ["guess-4", RIGHT]) {
      const response = await attempt("ann@example.com", password, "203.0.113.7");
      expect([response.statusCode, response.json()]).toEqual([429, TOO_MANY]);
      const retryAfter = Number(response.headers["retry-after"]);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    }
    // Throttled attempts were never checked: the account only counts the two real wrong passwords.
    expect((await viewOf(t, "ann@example.com")).failedPasswordAttempts).toBe(2);
  });

  it("the limit is per address and X-Forwarded-For does not get around it", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "2" } });
    await t.createUser("ann@example.com", RIGHT);
    for (const guess of ["guess-1", "guess-2"]) expect((await attempt("ann@example.com", guess, "198.51.100.1")).statusCode).toBe(401);
    for (let i = 0; i < 3; i++) {
      const spoofed = await attempt("ann@example.com", RIGHT, "198.51.100.1", { "x-forwarded-for": `192.0.2.${i + 10}` });
      expect(spoofed.statusCode).toBe(429);
    }
    expect((await attempt("ann@example.com", RIGHT, "198.51.100.2")).statusCode).toBe(200);
  });
});
