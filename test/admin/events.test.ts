import { afterEach, describe, expect, it } from "vitest";
import { insertEvents } from "../../src/store/index.ts";
import { postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { ADMIN_EMAIL, errorCode, failLogins, get, post, USER_PASSWORD, withAdmin, type Session } from "./support.ts";

interface ApiEvent {
  id: number;
  type: string;
  at: string;
  userId: string | null;
  email: string | null;
  ip: string | null;
  userAgent: string | null;
  message: string;
  details: Record<string, unknown>;
}
interface EventPage {
  events: ApiEvent[];
  nextCursor: string | null;
}

const MINUTE = 60_000;

describe.each(DIALECTS)("GET /api/admin/events (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  let aliceId: string;
  let start: number;
  afterEach(async () => t?.close());

  const events = async (query = ""): Promise<EventPage> => {
    const response = await get(t, admin, `/api/admin/events${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<EventPage>();
  };
  const types = (page: EventPage): string[] => page.events.map((e) => e.type);

  /** A known history: creation, failures from two addresses, a success, a disable two hours later. */
  async function history(): Promise<void> {
    ({ t, admin } = await withAdmin(dialect));
    start = t.clock.now();
    t.clock.set(start + MINUTE);
    aliceId = (await post(t, admin, "/api/admin/users", { email: "alice@example.com", password: USER_PASSWORD })).json<{ id: string }>().id;
    t.clock.set(start + 2 * MINUTE);
    await failLogins(t, "alice@example.com", 2, "198.51.100.1");
    t.clock.set(start + 3 * MINUTE);
    await failLogins(t, "ghost@example.com", 1, "198.51.100.2");
    t.clock.set(start + 4 * MINUTE);
    expect((await postLogin(t.app, "alice@example.com", USER_PASSWORD)).statusCode).toBe(200);
    t.clock.set(start + 120 * MINUTE);
    expect((await post(t, admin, `/api/admin/users/${aliceId}/disable`)).statusCode).toBe(200);
  }

  it("lists every event newest first with the SPEC's fields and ISO times", async () => {
    await history();
    const page = await events();
    expect(types(page)).toEqual([
      // A first full sign-in also trusts the browser (SPEC "Trusted devices").
      "account.disabled", "device.trusted", "login.succeeded", "login.failed", "login.failed", "login.failed",
      "user.created", "device.trusted", "login.succeeded", "user.created",
    ]);
    expect(page.nextCursor).toBeNull();
    const ids = page.events.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const ghost = page.events[3]!;
    expect(Object.keys(ghost).sort()).toEqual(["at", "details", "email", "id", "ip", "message", "type", "userAgent", "userId"]);
    expect(ghost).toMatchObject({
      type: "login.failed", at: new Date(start + 3 * MINUTE).toISOString(), userId: null, email: "ghost@example.com",
      ip: "198.51.100.2", userAgent: "attack-tool/1.0", details: { reason: "unknown_user" },
    });
    expect(page.events[0]).toMatchObject({
      userId: aliceId, at: new Date(start + 120 * MINUTE).toISOString(), details: { reason: "admin", by: "admin", actor: ADMIN_EMAIL },
    });
    expect(page.events[0]!.message).toContain(ADMIN_EMAIL);
  });

  it("filters by user, type, address and time (duration or ISO), combined", async () => {
    await history();
    expect(types(await events(`?userId=${aliceId}`))).toEqual([
      "account.disabled", "device.trusted", "login.succeeded", "login.failed", "login.failed", "user.created",
    ]);
    const failed = await events("?type=login.failed");
    expect(failed.events.map((e) => e.details.reason)).toEqual(["unknown_user", "wrong_password", "wrong_password"]);
    expect((await events(`?type=login.failed&userId=${aliceId}`)).events).toHaveLength(2);
    expect((await events("?ip=198.51.100.1")).events.map((e) => e.email)).toEqual(["alice@example.com", "alice@example.com"]);
    expect((await events("?ip=192.0.2.99")).events).toEqual([]);
    expect(types(await events("?since=1h"))).toEqual(["account.disabled"]);
    expect(types(await events("?since=117m"))).toEqual(["account.disabled", "device.trusted", "login.succeeded", "login.failed"]);
    const iso = new Date(start + 4 * MINUTE).toISOString();
    expect(types(await events(`?since=${iso}`))).toEqual(["account.disabled", "device.trusted", "login.succeeded"]);
    expect(types(await events("?since=2h&type=login.failed&ip=198.51.100.2"))).toEqual(["login.failed"]);
  });

  it("paginates with a cursor, visiting every matching event once, in order", async () => {
    await history();
    const all = (await events()).events.map((e) => e.id);
    for (const [filter, expected] of [["", all], ["&type=login.failed", null]] as const) {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: EventPage = await events(`?limit=2${filter}${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.events.length).toBeLessThanOrEqual(2);
        seen.push(...page.events.map((e) => e.id));
        cursor = page.nextCursor;
        expect(++pages).toBeLessThan(20);
      } while (cursor !== null);
      if (expected) expect(seen).toEqual(expected);
      else expect(seen).toEqual((await events("?type=login.failed")).events.map((e) => e.id));
      expect(pages).toBe(Math.ceil(seen.length / 2));
    }
  });

  it("pages 100 events by default and at most 500", async () => {
    ({ t, admin } = await withAdmin(dialect));
    await insertEvents(t.auth.database.db, Array.from({ length: 150 }, (_, i) => ({
      type: "login.failed" as const, at: t.clock.now() + i, userId: null, email: `bulk${i}@example.com`, ip: "192.0.2.1",
      userAgent: null, message: "failed", details: { reason: "unknown_user" },
    })));
    const first = await events("?type=login.failed");
    expect(first.events).toHaveLength(100);
    expect(first.events[0]!.email).toBe("bulk149@example.com");
    const rest = await events(`?type=login.failed&cursor=${first.nextCursor}`);
    expect(rest.events).toHaveLength(50);
    expect(rest.events.at(-1)!.email).toBe("bulk0@example.com");
    expect(rest.nextCursor).toBeNull();
    expect((await events("?limit=500")).events.length).toBeGreaterThan(150);
  });

  it("answers 400 invalid_request to bad filters", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const notAnId = Buffer.from("abc").toString("base64url");
    for (const query of [
      "since=yesterday", "since=2026-13-45", "since=1y", "type=login.hacked", "limit=0", "limit=501",
      "limit=x", "cursor=!!", `cursor=${notAnId}`, "cursor=", "userId=",
    ]) {
      const response = await get(t, admin, `/api/admin/events?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(errorCode(response)).toBe("invalid_request");
    }
  });
});
