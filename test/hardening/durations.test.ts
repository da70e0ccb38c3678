/**
 * Issue 8, defect 6: DEADBOLT_LOCKOUT_DURATION=100000000d overflowed a Date: every guess was
 * a 500 and the account never locked. Every duration has a sane range at start-up, and
 * nothing on the lockout path throws on a date.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { lockDuration, onFailure } from "../../src/lockout/index.ts";
import { isoTime } from "../../src/time.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { counter, policy, state, T0 } from "../lockout/fixtures.ts";

const DURATIONS = [
  ["DEADBOLT_LOCKOUT_WINDOW", "365d", "366d"],
  ["DEADBOLT_LOCKOUT_DURATION", "3650d", "3651d"],
  ["DEADBOLT_LOCKOUT_MAX_DURATION", "3650d", "3651d"],
  ["DEADBOLT_SESSION_IDLE_TIMEOUT", "400d", "401d"],
  ["DEADBOLT_SESSION_MAX_AGE", "400d", "401d"],
] as const;

describe("duration ranges", () => {
  it.each(DURATIONS)("%s: the longest accepted is %s; longer, zero or garbage stops start-up naming it", (name, longest, tooLong) => {
    const base = name === "DEADBOLT_LOCKOUT_DURATION" ? { DEADBOLT_LOCKOUT_MAX_DURATION: "3650d" } : {};
    expect(() => loadConfig({ ...base, [name]: longest })).not.toThrow();
    for (const bad of [tooLong, "0", "0s", "100000000d", "-1m", "1e9d", "soon"]) {
      expect(() => loadConfig({ ...base, [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`^${name}=".*" is invalid: expected a duration from`));
    }
  });

  it("the issue's example is refused with one line", () => {
    expect(() => loadConfig({ DEADBOLT_LOCKOUT_DURATION: "100000000d" }))
      .toThrow('DEADBOLT_LOCKOUT_DURATION="100000000d" is invalid: expected a duration from 1s to 3650d, such as 500ms, 2s, 15m, 24h or 7d');
  });

  it("no policy or backoff makes a lock a Date cannot hold, and isoTime never throws", () => {
    const huge = policy({ durationMs: Number.MAX_VALUE, maxDurationMs: Number.MAX_VALUE, backoff: 100 });
    expect(lockDuration(huge, 10_000)).toBe(Number.MAX_VALUE);
    const d = onFailure(state({ password: counter({ failures: 4, lastFailedAt: T0 }), lockoutCount: 5_000 }), "password", huge, T0, { slotId: null, isLastActiveAdmin: false });
    expect(d.state.lockedUntil).not.toBeNull();
    expect(() => new Date(d.state.lockedUntil!).toISOString()).not.toThrow();
    for (const value of [Number.NaN, Infinity, -Infinity, 1e300, -1e300, 8.64e15 + 1]) expect(() => isoTime(value)).not.toThrow();
  });
});

describe.each(DIALECTS)("the longest lock settings over HTTP (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("lock for 10 years with backoff 100: the account locks, every answer is the generic 401, views render", async () => {
    t = await createTestApp(dialect, {
      env: { DEADBOLT_LOCKOUT_DURATION: "3650d", DEADBOLT_LOCKOUT_MAX_DURATION: "3650d", DEADBOLT_LOCKOUT_BACKOFF: "100", DEADBOLT_LOCKOUT_THRESHOLD: "2" },
    });
    const user = await t.createUser("long@example.com", "a right passphrase");
    for (let i = 0; i < 4; i++) expect((await postLogin(t.app, "long@example.com", `guess ${i}`)).statusCode).toBe(401);
    expect((await postLogin(t.app, "long@example.com", "a right passphrase")).statusCode).toBe(401);
    // A row corrupted beyond Date's range still reads and renders (no 500 anywhere on the path).
    await t.auth.database.db.updateTable("users").set({ locked_until: 9e15 }).where("id", "=", user.id).execute();
    expect((await postLogin(t.app, "long@example.com", "guess")).statusCode).toBe(401);
    const events = await t.auth.database.db.selectFrom("events").select("type").where("type", "=", "account.locked").execute();
    expect(events).toHaveLength(1);
  });
});
