import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser } from "../../src/auth/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { MINUTE, SPEC_FAILURE_MESSAGE, viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const INFORMATIVE = {
  DEADBOLT_LOCKOUT_DISCLOSURE: "informative",
  DEADBOLT_LOCKOUT_THRESHOLD: "3",
  DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "4",
  DEADBOLT_LOCKOUT_DURATION: "15m",
};

describe.each(DIALECTS)("informative disclosure (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function answer(email: string, password: string): Promise<{ status: number; body: unknown }> {
    const response = await postLogin(t.app, email, password);
    return { status: response.statusCode, body: response.json() };
  }

  const wrong = (remaining: number) => ({
    status: 401,
    body: { error: "invalid_credentials", message: SPEC_FAILURE_MESSAGE, attemptsRemaining: remaining },
  });

  it("401 counts attemptsRemaining down, then 423 account_locked with lockedUntil until the lock ends", async () => {
    t = await createTestApp(dialect, { env: INFORMATIVE });
    await t.createUser("ann@example.com", RIGHT);

    expect(await answer("ann@example.com", "guess-1")).toEqual(wrong(2));
    expect(await answer("ann@example.com", "guess-2")).toEqual(wrong(1));
    // The attempt that locks still answers 401, with nothing left.
    expect(await answer("ann@example.com", "guess-3")).toEqual(wrong(0));

    const locked = {
      status: 423,
      body: { error: "account_locked", message: "The account is temporarily locked.", lockedUntil: "2026-11-22T12:15:00.000Z" },
    };
    expect(await answer("ann@example.com", "guess-4")).toEqual(locked);
    expect(await answer("ann@example.com", RIGHT)).toEqual(locked);
    const until = (await postLogin(t.app, "ann@example.com", RIGHT)).json() as { lockedUntil: string };
    expect(new Date(until.lockedUntil).toISOString()).toBe(until.lockedUntil);
    expect(until.lockedUntil).toBe((await viewOf(t, "ann@example.com")).lockedUntil);

    t.clock.advance(15 * MINUTE - 1);
    expect(await answer("ann@example.com", RIGHT)).toEqual(locked);
    t.clock.advance(1);
    // An ended lock leaves a fresh set of attempts.
    expect(await answer("ann@example.com", "guess-5")).toEqual(wrong(2));
    expect((await answer("ann@example.com", RIGHT)).status).toBe(200);
    expect(await answer("ann@example.com", "guess-6")).toEqual(wrong(2));
  });

  it("a disabled account answers 403 account_disabled, whatever the password", async () => {
    t = await createTestApp(dialect, { env: INFORMATIVE });
    const bob = await t.createUser("bob@example.com", RIGHT);
    expect((await disableUser(t.auth, bob.id, CLI_ACTOR)).ok).toBe(true);
    const disabled = {
      status: 403,
      body: { error: "account_disabled", message: "The account is disabled. Contact an administrator." },
    };
    expect(await answer("bob@example.com", "guess")).toEqual(disabled);
    expect(await answer("bob@example.com", RIGHT)).toEqual(disabled);
  });

  it("an unknown e-mail gets the plain 401, without attemptsRemaining", async () => {
    t = await createTestApp(dialect, { env: INFORMATIVE });
    expect(await answer("nobody@example.com", "guess")).toEqual({
      status: 401,
      body: { error: "invalid_credentials", message: SPEC_FAILURE_MESSAGE },
    });
  });

  it("attemptsRemaining counts from the admin threshold for admins", async () => {
    t = await createTestApp(dialect, { env: INFORMATIVE });
    await t.createUser("root@example.com", RIGHT, "admin");
    expect(await answer("root@example.com", "guess-1")).toEqual(wrong(3));
    expect(await answer("root@example.com", "guess-2")).toEqual(wrong(2));
    expect(await answer("root@example.com", "guess-3")).toEqual(wrong(1));
    expect(await answer("root@example.com", "guess-4")).toEqual(wrong(0));
    expect((await answer("root@example.com", RIGHT)).status).toBe(423);
  });

  it("generic mode (the default) never adds attemptsRemaining or lockedUntil", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "2" } });
    await t.createUser("cy@example.com", RIGHT);
    const generic = { status: 401, body: { error: "invalid_credentials", message: SPEC_FAILURE_MESSAGE } };
    expect(await answer("cy@example.com", "guess-1")).toEqual(generic);
    expect(await answer("cy@example.com", "guess-2")).toEqual(generic);
    expect(await answer("cy@example.com", RIGHT)).toEqual(generic);
  });
});
