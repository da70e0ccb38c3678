/** Seeing and forgetting trusted devices: API, admin API, CLI and /account, on both dialects. */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { cliEnv, json, runCli } from "../cli/helpers.ts";
import { events, viewOf } from "../http/helpers.ts";
import { attack, login, PASSWORD } from "./support.ts";

const USER = "fay@example.com";
const ADMIN = "root@example.com";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

describe.each(DIALECTS)("managing trusted devices (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  /** Signs in as a browser with `agent`; returns its session and device tokens. */
  async function browser(email: string, agent: string): Promise<{ session: string; device: string }> {
    const response = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password: PASSWORD }, headers: { "user-agent": agent } });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { token: string; deviceToken: string };
    return { session: body.token, device: body.deviceToken };
  }

  function asBrowser(b: { session: string; device: string }): Record<string, string> {
    return { cookie: `deadbolt_session=${b.session}; deadbolt_device=${b.device}` };
  }

  it("GET /api/auth/devices lists the user's devices with `current`; DELETE forgets one (204), another's is 404", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    await t.createUser("gus@example.com", PASSWORD);
    const firefox = await browser(USER, FIREFOX);
    const safari = await browser(USER, SAFARI);
    const gus = await browser("gus@example.com", FIREFOX);
    const listed = await t.app.inject({ method: "GET", url: "/api/auth/devices", headers: asBrowser(safari) });
    expect(listed.statusCode).toBe(200);
    const devices = (listed.json() as { devices: Record<string, unknown>[] }).devices;
    expect(devices).toHaveLength(2);
    for (const device of devices) expect(Object.keys(device)).toEqual(["id", "createdAt", "lastUsedAt", "ip", "userAgent", "current"]);
    expect(devices.map((d) => [d.userAgent, d.current, d.ip])).toEqual(expect.arrayContaining([[FIREFOX, false, "127.0.0.1"], [SAFARI, true, "127.0.0.1"]]));
    const firefoxId = devices.find((d) => d.userAgent === FIREFOX)!.id as string;
    // Bearer works too, and without a session it is 401.
    expect((await t.app.inject({ method: "GET", url: "/api/auth/devices" })).statusCode).toBe(401);
    const gusDevices = await t.app.inject({ method: "GET", url: "/api/auth/devices", headers: { authorization: `Bearer ${gus.session}` } });
    const gusId = (gusDevices.json() as { devices: { id: string }[] }).devices[0]!.id;
    expect((await t.app.inject({ method: "DELETE", url: `/api/auth/devices/${gusId}`, headers: { authorization: `Bearer ${safari.session}` } })).statusCode).toBe(404);
    const forgotten = await t.app.inject({ method: "DELETE", url: `/api/auth/devices/${firefoxId}`, headers: { authorization: `Bearer ${safari.session}` } });
    expect(forgotten.statusCode).toBe(204);
    expect((await viewOf(t, USER)).trustedDevices).toBe(1);
    expect((await viewOf(t, "gus@example.com")).trustedDevices).toBe(1);
    expect((await events(t, { type: "device.forgotten" })).map((e) => e.details)).toEqual([{ by: "user", deviceId: firefoxId, count: 1 }]);
    // The forgotten browser is now an untrusted client: the attacker's lock stops it.
    await attack(t, USER, 5);
    expect((await login(t, USER, PASSWORD, { cookie: firefox.device })).status).toBe(401);
    expect((await login(t, USER, PASSWORD, { cookie: safari.device })).status).toBe(200);
  });

  it("a cross-site DELETE with the session cookie is refused (CSRF) and forgets nothing", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    const b = await browser(USER, FIREFOX);
    const id = ((await t.app.inject({ method: "GET", url: "/api/auth/devices", headers: asBrowser(b) })).json() as { devices: { id: string }[] }).devices[0]!.id;
    const refused = await t.app.inject({ method: "DELETE", url: `/api/auth/devices/${id}`, headers: { ...asBrowser(b), origin: "https://evil.example" } });
    expect(refused.statusCode).toBe(403);
    expect((await viewOf(t, USER)).trustedDevices).toBe(1);
  });

  it("admins list and forget a user's devices; U says how many; the badge says locked for new devices", async () => {
    t = await createTestApp(dialect);
    const user = await t.createUser(USER, PASSWORD);
    await t.createUser(ADMIN, PASSWORD, "admin");
    const admin = await browser(ADMIN, FIREFOX);
    const bearer = { authorization: `Bearer ${admin.session}` };
    await browser(USER, FIREFOX);
    await browser(USER, SAFARI);
    const u = await t.app.inject({ method: "GET", url: `/api/admin/users/${user.id}`, headers: bearer });
    expect(u.json()).toMatchObject({ trustedDevices: 2 });
    const list = await t.app.inject({ method: "GET", url: `/api/admin/users/${user.id}/devices`, headers: bearer });
    expect((list.json() as { devices: unknown[] }).devices).toHaveLength(2);
    expect((await t.app.inject({ method: "GET", url: "/api/admin/users/nobody/devices", headers: bearer })).statusCode).toBe(404);
    const asUser = await browser(USER, SAFARI);
    expect((await t.app.inject({ method: "GET", url: `/api/admin/users/${user.id}/devices`, headers: { authorization: `Bearer ${asUser.session}` } })).statusCode).toBe(403);
    await attack(t, USER, 5);
    const page = await t.app.inject({ method: "GET", url: `/admin/users/${user.id}`, headers: { cookie: `deadbolt_session=${admin.session}` } });
    expect(page.body).toContain("Locked for new devices until 2026-11-22 12:15:00 UTC (password)");
    expect((await t.app.inject({ method: "DELETE", url: `/api/admin/users/${user.id}/devices`, headers: bearer })).statusCode).toBe(204);
    expect((await viewOf(t, USER)).trustedDevices).toBe(0);
    expect((await events(t, { type: "device.forgotten" })).map((e) => e.details)).toEqual([{ by: "admin", actor: ADMIN, count: 3 }]);
  });

  it("/account lists devices in words with this device marked, and its Forget button forgets one", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    await browser(USER, SAFARI);
    const b = await browser(USER, FIREFOX);
    const page = await t.app.inject({ method: "GET", url: "/account", headers: asBrowser(b) });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Firefox 133 on Windows 10");
    expect(page.body).toContain("Mobile Safari 17 on iOS 17.5");
    expect(page.body.match(/this device<\/span>/g)).toHaveLength(1);
    const ids = [...page.body.matchAll(/name="id" value="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    const forgot = await t.app.inject({
      method: "POST", url: "/account/devices/forget", payload: `id=${ids[1]}`,
      headers: { ...asBrowser(b), "content-type": "application/x-www-form-urlencoded" },
    });
    expect(forgot.statusCode, forgot.body).toBe(200);
    expect(forgot.body).toContain("The device was forgotten");
    expect((await viewOf(t, USER)).trustedDevices).toBe(1);
    const unknown = await t.app.inject({
      method: "POST", url: "/account/devices/forget", payload: "id=nope",
      headers: { ...asBrowser(b), "content-type": "application/x-www-form-urlencoded" },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it("CLI: user devices [--json] and user forget-devices", async () => {
    t = await createTestApp(dialect);
    await t.createUser(USER, PASSWORD);
    await browser(USER, FIREFOX);
    const env = cliEnv(t.database);
    const text = await runCli(["user", "devices", USER], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("Firefox 133 on Windows 10");
    const listed = json<{ devices: { id: string; userAgent: string; current: boolean }[] }>(await runCli(["user", "devices", USER, "--json"], { env }));
    expect(listed.devices).toEqual([expect.objectContaining({ userAgent: FIREFOX, current: false })]);
    const forgot = await runCli(["user", "forget-devices", USER], { env });
    expect(forgot).toMatchObject({ code: 0, stdout: `${USER}: 1 trusted device forgotten\n` });
    expect((await runCli(["user", "devices", USER], { env })).stdout).toBe(`${USER} trusts no device\n`);
    expect((await runCli(["user", "devices", "nobody@example.com"], { env })).code).toBe(1);
    expect((await runCli(["user", "forget-devices"], { env })).code).toBe(2);
    expect((await events(t, { type: "device.forgotten" })).map((e) => e.details)).toEqual([{ by: "cli", count: 1 }]);
  });
});
