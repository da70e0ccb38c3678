import { afterEach, describe, expect, it } from "vitest";
import { listEvents } from "../../src/store/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";

describe.each(DIALECTS)("the gateway's lockout bugs (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("an expired lock leaves a fresh set of attempts: one typo after it does not re-lock", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3", DEADBOLT_LOCKOUT_DURATION: "15m" } });
    await t.createUser("gw@example.com", "right-password");
    for (let i = 0; i < 3; i++) expect((await postLogin(t.app, "gw@example.com", "wrong")).statusCode).toBe(401);
    // Locked: even the right password is refused.
    expect((await postLogin(t.app, "gw@example.com", "right-password")).statusCode).toBe(401);

    t.clock.advance(15 * 60_000);
    expect((await postLogin(t.app, "gw@example.com", "wrong")).statusCode).toBe(401);
    const ok = await postLogin(t.app, "gw@example.com", "right-password");
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: "authenticated", user: { email: "gw@example.com", role: "user" } });

    const types = (await listEvents(t.auth.database.db, { order: "oldest" })).map((e) => `${e.type}:${String(e.details.reason ?? "")}`);
    expect(types).toEqual([
      "user.created:", "login.failed:wrong_password", "login.failed:wrong_password", "login.failed:wrong_password",
      "account.locked:", "login.failed:locked", "login.failed:wrong_password", "login.succeeded:", "device.trusted:",
    ]);
  });
});
