import { afterEach, describe, expect, it } from "vitest";
import { bucketRange } from "../../src/http/routes/admin-stats.ts";
import type { TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { errorCode, failLogins, get, post, USER_PASSWORD, withAdmin, type Session } from "./support.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.parse("2026-11-22T12:00:00Z");

interface Stats {
  window: string;
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: Array<{ start: string; failures: number; lockouts: number }>;
  lockedNow: number;
  disabledNow: number;
  totalUsers: number;
  topTargetedAccounts: Array<{ email: string; userId: string | null; failures: number }>;
  topSourceIps: Array<{ ip: string; failures: number }>;
}

describe("bucketRange", () => {
  it("picks a round bucket size giving at most 48 buckets, aligned, the last one holding now", () => {
    const cases: Array<[number, number]> = [
      [5 * MINUTE, 10], [HOUR, 120], [6 * HOUR, 600], [24 * HOUR, 1800], [48 * HOUR, 3600], [7 * 24 * HOUR, 21600], [30 * 24 * HOUR, 86400],
    ];
    for (const [windowMs, seconds] of cases) {
      const now = T0 + 12_345;
      const range = bucketRange(windowMs, now);
      expect(range.bucketMs, `${windowMs}`).toBe(seconds * 1000);
      expect(range.from % range.bucketMs).toBe(0);
      expect(range.from).toBeLessThanOrEqual(now - windowMs);
      expect(range.from).toBeGreaterThan(now - windowMs - range.bucketMs);
      expect(range.to - range.bucketMs).toBeLessThanOrEqual(now);
      expect(range.to).toBeGreaterThan(now);
      expect(range.count).toBe((range.to - range.from) / range.bucketMs);
      expect(range.count).toBeGreaterThanOrEqual(24);
      expect(range.count).toBeLessThanOrEqual(49);
    }
  });
});

describe.each(DIALECTS)("GET /api/admin/stats (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  afterEach(async () => t?.close());

  const stats = async (query = ""): Promise<Stats> => {
    const response = await get(t, admin, `/api/admin/stats${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Stats>();
  };

  it("counts failures and lockouts per bucket, locked and disabled users, top targets and sources", async () => {
    ({ t, admin } = await withAdmin(dialect, { DEADBOLT_LOCKOUT_THRESHOLD: "3", DEADBOLT_LOCKOUT_DURATION: "2h" }));
    const alice = await t.createUser("alice@example.com", USER_PASSWORD);
    const bob = await t.createUser("bob@example.com", USER_PASSWORD);
    const carol = await t.createUser("carol@example.com", USER_PASSWORD);
    const dave = await t.createUser("dave@example.com", USER_PASSWORD);

    t.clock.set(T0 - 30 * HOUR); // outside a 24h window
    await failLogins(t, "carol@example.com", 2, "192.0.2.30");
    t.clock.set(T0 - 3 * HOUR + 5 * MINUTE);
    await failLogins(t, "alice@example.com", 2, "192.0.2.1");
    t.clock.set(T0 - 1 * HOUR + 10 * MINUTE);
    await failLogins(t, "bob@example.com", 3, "192.0.2.2"); // the third locks bob for 2h
    await failLogins(t, "ghost@example.com", 1, "192.0.2.2");
    t.clock.set(T0);
    expect((await post(t, admin, `/api/admin/users/${dave.id}/disable`)).statusCode).toBe(200);

    const day = await stats("?window=24h");
    expect(day).toMatchObject({
      window: "24h", bucketSeconds: 1800, to: new Date(T0).toISOString(), from: new Date(T0 - 24 * HOUR).toISOString(),
      lockedNow: 1, disabledNow: 1, totalUsers: 5,
    });
    expect(day.buckets).toHaveLength(49);
    expect(day.buckets[42]).toEqual({ start: "2026-11-22T09:00:00.000Z", failures: 2, lockouts: 0 });
    expect(day.buckets[46]).toEqual({ start: "2026-11-22T11:00:00.000Z", failures: 4, lockouts: 1 });
    expect(day.buckets.reduce((n, b) => n + b.failures, 0)).toBe(6);
    expect(day.buckets.reduce((n, b) => n + b.lockouts, 0)).toBe(1);
    expect(day.buckets.map((b) => Date.parse(b.start))).toEqual(day.buckets.map((_, i) => T0 - 24 * HOUR + i * 30 * MINUTE));
    expect(day.topTargetedAccounts).toEqual([
      { email: "bob@example.com", userId: bob.id, failures: 3 },
      { email: "alice@example.com", userId: alice.id, failures: 2 },
      { email: "ghost@example.com", userId: null, failures: 1 },
    ]);
    expect(day.topSourceIps).toEqual([{ ip: "192.0.2.2", failures: 4 }, { ip: "192.0.2.1", failures: 2 }]);

    const twoDays = await stats("?window=48h");
    expect(twoDays.bucketSeconds).toBe(3600);
    expect(twoDays.buckets.reduce((n, b) => n + b.failures, 0)).toBe(8);
    expect(twoDays.topTargetedAccounts.map((a) => a.email)).toEqual(["bob@example.com", "alice@example.com", "carol@example.com", "ghost@example.com"]);
    expect(twoDays.topTargetedAccounts[2]).toEqual({ email: "carol@example.com", userId: carol.id, failures: 2 });

    const hour = await stats("?window=1h");
    expect(hour.buckets.reduce((n, b) => n + b.failures, 0)).toBe(4);
    expect(hour.topSourceIps).toEqual([{ ip: "192.0.2.2", failures: 4 }]);

    // When bob's lock expires, nobody is locked now; the history stays.
    t.clock.set(T0 + 71 * MINUTE); // locked at T0-50m for 2h
    const later = await stats();
    expect(later).toMatchObject({ window: "24h", lockedNow: 0, disabledNow: 1 });
    expect(later.buckets.reduce((n, b) => n + b.lockouts, 0)).toBe(1);
  });

  it("answers an empty database with zeros and validates the window", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const empty = await stats("?window=7d");
    expect(empty).toMatchObject({ window: "7d", bucketSeconds: 21600, lockedNow: 0, disabledNow: 0, totalUsers: 1, topTargetedAccounts: [], topSourceIps: [] });
    expect(empty.buckets.every((b) => b.failures === 0 && b.lockouts === 0)).toBe(true);
    for (const window of ["1y", "31d", "1m", "0s", "soon", ""]) {
      const response = await get(t, admin, `/api/admin/stats?window=${window}`);
      expect(response.statusCode, window).toBe(400);
      expect(errorCode(response)).toBe("invalid_request");
    }
  });
});
