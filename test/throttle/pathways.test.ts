import { afterEach, describe, expect, it } from "vitest";
import { THROTTLED_ROUTES } from "../../src/http/throttle-rules.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, signIn } from "../http/helpers.ts";
import { exhaust, pathwayRequest, send, THROTTLED, verifications } from "./support.ts";

const RIGHT = "right-password";

describe.each(DIALECTS)("per-client throttling on every pathway (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("every throttled pathway is a registered route", async () => {
    t = await createTestApp(dialect);
    for (const route of THROTTLED) {
      const [method, url] = route.split(" ") as [string, string];
      expect(t.app.hasRoute({ method: method as "GET", url }), route).toBe(true);
    }
  });

  it("a client over its limit gets 429 with Retry-After on every pathway, and costs no verification", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "3" } });
    await t.createUser("ann@example.com", RIGHT);
    const session = await signIn(t, "ann@example.com", RIGHT);
    await exhaust(t, "203.0.113.5", 3);
    const before = await verifications(t);
    expect(before).toBeGreaterThan(0);
    for (const route of THROTTLED) {
      const response = await send(t, pathwayRequest(route, session), "203.0.113.5");
      expect(response.statusCode, `${route}: ${response.body}`).toBe(429);
      const retryAfter = Number(response.headers["retry-after"]);
      expect(retryAfter >= 1 && retryAfter <= 60, route).toBe(true);
      if (THROTTLED_ROUTES[route]!.answer === "json") expect(response.json().error).toBe("too_many_requests");
      else expect(response.headers["content-type"]).toMatch(/^text\/html/);
    }
    // Throttled requests ran no argon2 at all, real or dummy (the verification metrics prove it).
    expect(await verifications(t)).toBe(before);
    // Nothing was checked or changed: ann's counters are untouched, and another client is not throttled.
    expect((await send(t, pathwayRequest("POST /api/auth/login", session), "203.0.113.6")).statusCode).toBe(200);
  });

  it("failures count on every kind of pathway; successes do not; every forgot request counts", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "2", DEADBOLT_LOCKOUT_THRESHOLD: "50" } });
    await t.createUser("ann@example.com", RIGHT);
    const session = await signIn(t, "ann@example.com", RIGHT);
    const cases: { route: string; ok?: () => Promise<number> }[] = [
      { route: "POST /api/auth/unlock" },
      { route: "POST /api/auth/password/reset" },
      { route: "GET /unlock" },
      { route: "POST /login/mfa" },
      { route: "POST /api/auth/login/mfa" },
    ];
    let n = 0;
    for (const { route } of cases) {
      const ip = `198.51.100.${++n}`;
      for (let i = 0; i < 2; i++) {
        const response = await send(t, pathwayRequest(route, session), ip);
        expect(response.statusCode, `${route}: ${response.body}`).not.toBe(429);
      }
      // The sample requests above all fail (bad tokens, no challenge): the third is refused.
      expect((await send(t, pathwayRequest(route, session), ip)).statusCode, route).toBe(429);
    }
    // Successes do not count: the right password from one address, many times.
    for (let i = 0; i < 4; i++) {
      expect((await send(t, pathwayRequest("POST /api/auth/login", session), "198.51.100.50")).statusCode).toBe(200);
    }
    // Wrong passwords in the sign-in form count, and the form's 429 is a page.
    const wrongForm = { ...pathwayRequest("POST /login", session), payload: "email=ann%40example.com&password=wrong-one" };
    expect((await send(t, wrongForm, "198.51.100.55")).statusCode).toBe(401);
    expect((await send(t, wrongForm, "198.51.100.55")).statusCode).toBe(401);
    const page = await send(t, pathwayRequest("POST /login", session), "198.51.100.55");
    expect(page.statusCode).toBe(429);
    expect(page.body).toContain("Too many attempts from this address");
    expect(page.body).toContain("</html>");
    // Wrong current passwords count.
    const change = { ...pathwayRequest("POST /api/auth/password/change", session), payload: { currentPassword: "wrong-one", newPassword: "a brand new passphrase" } };
    expect((await send(t, change, "198.51.100.60")).statusCode).toBe(401);
    expect((await send(t, change, "198.51.100.60")).statusCode).toBe(401);
    expect((await send(t, change, "198.51.100.60")).statusCode).toBe(429);
    // Every forgot request counts, whether or not the address has an account.
    const forgot = pathwayRequest("POST /api/auth/password/forgot", session);
    expect((await send(t, forgot, "198.51.100.70")).statusCode).toBe(202);
    expect((await send(t, forgot, "198.51.100.70")).statusCode).toBe(202);
    expect((await send(t, forgot, "198.51.100.70")).statusCode).toBe(429);
    expect((await send(t, pathwayRequest("POST /forgot", session), "198.51.100.70")).statusCode).toBe(429);
  });

  it("concurrent attempts count as they start: a client never has more than its limit verified", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "3", DEADBOLT_LOCKOUT_THRESHOLD: "50" } });
    await t.createUser("ann@example.com", RIGHT);
    const before = await verifications(t);
    const wrong = { ...pathwayRequest("POST /api/auth/login", ""), payload: { email: "ann@example.com", password: "wrong-guess" } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(t, wrong, "203.0.113.30")));
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([...Array(3).fill(401), ...Array(17).fill(429)]);
    expect(await verifications(t)).toBe(before + 3);
  });

  it("the limit resets with the minute (injected clock)", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "2" } });
    await exhaust(t, "203.0.113.9", 2);
    const refused = await send(t, pathwayRequest("POST /api/auth/password/forgot", ""), "203.0.113.9");
    expect(refused.statusCode).toBe(429);
    t.clock.advance(Number(refused.headers["retry-after"]) * 1000);
    expect((await send(t, pathwayRequest("POST /api/auth/password/forgot", ""), "203.0.113.9")).statusCode).toBe(202);
  });

  it("IPv6 clients are keyed by their /64", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "2" } });
    await exhaust(t, "2001:db8:1:2::1", 2);
    const forgot = pathwayRequest("POST /api/auth/password/forgot", "");
    expect((await send(t, forgot, "2001:db8:1:2:ffff:eeee:dddd:9")).statusCode).toBe(429);
    expect((await send(t, forgot, "2001:db8:1:3::1")).statusCode).toBe(202);
    // An IPv4-mapped address is the IPv4 client.
    await exhaust(t, "192.0.2.33", 2);
    expect((await send(t, forgot, "::ffff:192.0.2.33")).statusCode).toBe(429);
  });

  it("one client.throttled event per client per minute, with the count of refused requests", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_THROTTLE_PER_MINUTE: "2" } });
    const forgot = pathwayRequest("POST /api/auth/password/forgot", "");
    await exhaust(t, "203.0.113.20", 2);
    await exhaust(t, "203.0.113.21", 2);
    for (let i = 0; i < 10; i++) expect((await send(t, forgot, "203.0.113.20")).statusCode).toBe(429);
    expect((await send(t, forgot, "203.0.113.21")).statusCode).toBe(429);
    t.clock.advance(30_000);
    for (let i = 0; i < 5; i++) expect((await send(t, forgot, "203.0.113.20")).statusCode).toBe(429);
    expect(await events(t, { type: "client.throttled" })).toEqual([]);
    // The minute ends: the next request on any throttled route reports it.
    t.clock.advance(30_000);
    expect((await send(t, forgot, "198.51.100.99")).statusCode).toBe(202);
    const first = await events(t, { type: "client.throttled" });
    expect(first.map((e) => [e.ip, e.details.client, e.details.refused])).toEqual([
      ["203.0.113.20", "203.0.113.20", 15],
      ["203.0.113.21", "203.0.113.21", 1],
    ]);
    expect(first[0]!.message).toBe("15 requests from 203.0.113.20 refused in 60s: more than 2 failed attempts a minute");
    // A new minute of refusals is a new event, written at the latest when the app stops.
    await exhaust(t, "203.0.113.20", 2);
    for (let i = 0; i < 3; i++) expect((await send(t, forgot, "203.0.113.20")).statusCode).toBe(429);
    await t.app.close();
    const all = await events(t, { type: "client.throttled" });
    expect(all.map((e) => [e.details.client, e.details.refused])).toEqual([["203.0.113.20", 15], ["203.0.113.21", 1], ["203.0.113.20", 3]]);
  });
});
