import { createServer, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { createTestDatabase, DIALECTS } from "../support/databases.ts";
import { signIn } from "../http/helpers.ts";
import { exhaust, freshIp, pathwayRequest, send, verifications } from "./support.ts";

const RIGHT = "right-password";
const forgot = pathwayRequest("POST /api/auth/password/forgot", "");

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(DIALECTS)("who the client is, and who is exempt (%s)", (dialect) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  async function open(options: Parameters<typeof createTestApp>[1]): Promise<TestApp> {
    const app = await createTestApp(dialect, options);
    apps.push(app);
    return app;
  }

  it("without DEADBOLT_TRUST_PROXY a spoofed X-Forwarded-For is ignored", async () => {
    const t = await open({ env: { DEADBOLT_THROTTLE_PER_MINUTE: "2" } });
    await exhaust(t, "127.0.0.1", 2, { "x-forwarded-for": "192.0.2.1" });
    // Changing the header does not make a new client; the socket address is the client.
    expect((await send(t, { ...forgot, headers: { "x-forwarded-for": "192.0.2.2" } }, "127.0.0.1")).statusCode).toBe(429);
    expect((await send(t, forgot, "127.0.0.2")).statusCode).toBe(202);
  });

  for (const trust of ["127.0.0.1", "10.0.0.0/8, 127.0.0.1/32", "1"]) {
    it(`with DEADBOLT_TRUST_PROXY=${trust} the proxy's X-Forwarded-For is believed`, async () => {
      const t = await open({ env: { DEADBOLT_THROTTLE_PER_MINUTE: "2", DEADBOLT_TRUST_PROXY: trust } });
      await exhaust(t, "127.0.0.1", 2, { "x-forwarded-for": "192.0.2.1" });
      expect((await send(t, { ...forgot, headers: { "x-forwarded-for": "192.0.2.1" } }, "127.0.0.1")).statusCode).toBe(429);
      // Another client behind the same proxy is not throttled, nor is the proxy itself.
      expect((await send(t, { ...forgot, headers: { "x-forwarded-for": "192.0.2.2" } }, "127.0.0.1")).statusCode).toBe(202);
      // The client cannot prepend its own entries: only the hop the proxy appended is believed.
      expect((await send(t, { ...forgot, headers: { "x-forwarded-for": "198.51.100.1, 192.0.2.1" } }, "127.0.0.1")).statusCode).toBe(429);
    });
  }

  it("a client that is not a trusted proxy cannot name another address", async () => {
    const t = await open({ env: { DEADBOLT_THROTTLE_PER_MINUTE: "2", DEADBOLT_TRUST_PROXY: "127.0.0.1" } });
    await exhaust(t, "198.51.100.7", 2, { "x-forwarded-for": "192.0.2.50" });
    expect((await send(t, { ...forgot, headers: { "x-forwarded-for": "192.0.2.51" } }, "198.51.100.7")).statusCode).toBe(429);
  });

  it("attempts that present a device the target user trusts are not throttled", async () => {
    let annId = "";
    const t = await open({
      env: { DEADBOLT_THROTTLE_PER_MINUTE: "2", DEADBOLT_LOCKOUT_THRESHOLD: "50" },
      trustedDevice: async (token, userId) => token === "ann-laptop" && userId === annId,
    });
    annId = (await t.createUser("ann@example.com", RIGHT)).id;
    await t.createUser("bob@example.com", RIGHT);
    const session = await signIn(t, "ann@example.com", RIGHT);
    await exhaust(t, "203.0.113.40", 2);
    const login = (email: string, password: string, device: { body?: string; cookie?: string }) => send(t, {
      method: "POST", url: "/api/auth/login",
      payload: { email, password, ...(device.body ? { deviceToken: device.body } : {}) },
      ...(device.cookie ? { cookies: { deadbolt_device: device.cookie } } : {}),
    }, "203.0.113.40");
    expect((await login("ann@example.com", RIGHT, { body: "ann-laptop" })).statusCode).toBe(200);
    expect((await login("ann@example.com", RIGHT, { cookie: "ann-laptop" })).statusCode).toBe(200);
    // Exempt from the throttle, not from the lockout: a wrong password is an ordinary 401.
    expect((await login("ann@example.com", "wrong", { cookie: "ann-laptop" })).statusCode).toBe(401);
    // Ann's device does not exempt attempts on Bob, and an unknown device exempts nothing.
    expect((await login("bob@example.com", RIGHT, { cookie: "ann-laptop" })).statusCode).toBe(429);
    expect((await login("ann@example.com", RIGHT, { cookie: "stolen-guess" })).statusCode).toBe(429);
    expect((await login("ann@example.com", RIGHT, {})).statusCode).toBe(429);
    // Other pathways name their user by the session.
    const change = { ...pathwayRequest("POST /api/auth/password/change", session), payload: { currentPassword: "wrong", newPassword: "a brand new passphrase" } };
    expect((await send(t, { ...change, cookies: { deadbolt_device: "ann-laptop" } }, "203.0.113.40")).statusCode).toBe(401);
    expect((await send(t, change, "203.0.113.40")).statusCode).toBe(429);
  });
});

describe.each(DIALECTS)("throttle counts shared through Redis (%s)", (dialect) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it("two instances on one Redis share a client's count", async () => {
    const database = await createTestDatabase(dialect);
    try {
      const env = { DEADBOLT_THROTTLE_PER_MINUTE: "3", DEADBOLT_REDIS_URL: "redis://127.0.0.1:6379" };
      const a = await createTestApp(dialect, { env, database });
      const b = await createTestApp(dialect, { env, database });
      apps.push(a, b);
      await vi.waitFor(() => expect([a.throttle.mode(), b.throttle.mode()]).toEqual(["shared", "shared"]), { timeout: 5000 });
      const ip = freshIp();
      await exhaust(a, ip, 2);
      await exhaust(b, ip, 1);
      expect((await send(a, forgot, ip)).statusCode).toBe(429);
      expect((await send(b, forgot, ip)).statusCode).toBe(429);
      expect((await send(b, forgot, freshIp())).statusCode).toBe(202);
    } finally {
      for (const app of apps.splice(0)) await app.close();
      await database.drop();
    }
  });

  it("with Redis down it throttles per process: neither open nor closed", async () => {
    const database = await createTestDatabase(dialect);
    try {
      const env = { DEADBOLT_THROTTLE_PER_MINUTE: "3", DEADBOLT_REDIS_URL: `redis://127.0.0.1:${await deadPort()}` };
      const a = await createTestApp(dialect, { env, database });
      const b = await createTestApp(dialect, { env, database });
      apps.push(a, b);
      expect(a.throttle.mode()).toBe("per_process");
      await a.createUser("ann@example.com", RIGHT);
      // Not closed: a legitimate login works.
      expect((await send(a, pathwayRequest("POST /api/auth/login", ""), "203.0.113.60")).statusCode).toBe(200);
      // Not open: this process still counts and refuses, before any verification.
      await exhaust(a, "203.0.113.61", 3);
      const before = await verifications(a);
      expect((await send(a, pathwayRequest("POST /api/auth/login", ""), "203.0.113.61")).statusCode).toBe(429);
      expect(await verifications(a)).toBe(before);
      // Per process: the other instance has its own count.
      expect((await send(b, forgot, "203.0.113.61")).statusCode).toBe(202);
    } finally {
      for (const app of apps.splice(0)) await app.close();
      await database.drop();
    }
  });
});
