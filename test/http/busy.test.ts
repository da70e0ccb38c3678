/**
 * A full untrusted hashing queue (a flood from more addresses than the per-client throttle holds
 * back): further untrusted logins are answered 429 `too_many_requests` with Retry-After at once,
 * before anything is counted or verified, the same whether the account exists or not; trusted
 * devices have their own lane and still sign in. The queue is held full by the test.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createArgon2Hasher, type Hasher } from "../../src/auth/index.ts";
import { findUserByEmail } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const USER = "busy@example.com";
const PASSWORD = "correct horse battery staple";

/** The real argon2 hasher, with a switch that says its untrusted queue is full. */
async function switchableHasher(): Promise<{ hasher: Hasher; full: (on: boolean) => void }> {
  const real = await createArgon2Hasher();
  let isFull = false;
  return {
    hasher: { ...real, admits: (lane) => lane === "trusted" || (!isFull && (real.admits?.(lane) ?? true)) },
    full: (on) => { isFull = on; },
  };
}

async function verifications(t: TestApp): Promise<string> {
  const text = await t.metrics.registry.getSingleMetricAsString("deadbolt_password_verifications_total");
  return text.split("\n").filter((line) => !line.startsWith("#")).join("\n");
}

describe.each(DIALECTS)("logins while the untrusted hashing queue is full (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("untrusted attempts get a quick 429 that counts and verifies nothing; a trusted device signs in", async () => {
    const { hasher, full } = await switchableHasher();
    t = await createTestApp(dialect, { hasher, env: { DEADBOLT_THROTTLE_PER_MINUTE: "3" } });
    await t.createUser(USER, PASSWORD);
    const trusted = await postLogin(t.app, USER, PASSWORD);
    expect(trusted.statusCode).toBe(200);
    const deviceToken = (trusted.json() as { deviceToken: string }).deviceToken;
    const before = await verifications(t);
    const eventsBefore = await t.auth.database.db.selectFrom("events").select("id").execute();

    full(true);
    const answers = [
      await postLogin(t.app, USER, "a wrong guess"),
      await postLogin(t.app, USER, PASSWORD),
      await postLogin(t.app, "nobody@example.com", "a wrong guess"),
      // A well-formed token this user does not trust is no way around it.
      await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: USER, password: "x", deviceToken: "A".repeat(43) } }),
      await postLogin(t.app, USER, "another wrong guess"),
    ];
    for (const answer of answers) {
      expect(answer.statusCode, answer.body).toBe(429);
      expect(answer.json()).toEqual(answers[0]!.json());
      expect((answer.json() as { error: string }).error).toBe("too_many_requests");
      expect(answer.headers["retry-after"]).toBe("1");
    }
    // The web form too.
    const form = await t.app.inject({
      method: "POST", url: "/login", payload: `email=${encodeURIComponent(USER)}&password=guess`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.statusCode).toBe(429);
    expect(form.headers["retry-after"]).toBe("1");

    // Nothing verified, counted or recorded.
    expect(await verifications(t)).toBe(before);
    expect(await findUserByEmail(t.auth.database.db, USER)).toMatchObject({ password_failures: 0, password_slots: "[]" });
    expect(await t.auth.database.db.selectFrom("events").select("id").execute()).toHaveLength(eventsBefore.length);

    // The user's trusted device has its own lane.
    const signedIn = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: USER, password: PASSWORD, deviceToken } });
    expect(signedIn.statusCode, signedIn.body).toBe(200);

    // Once the queue drains, attempts are checked again; the busy answers did not use up this
    // client's 3 failures a minute either.
    full(false);
    for (let i = 0; i < 3; i++) expect((await postLogin(t.app, USER, "a wrong guess")).statusCode).toBe(401);
    expect((await findUserByEmail(t.auth.database.db, USER))!.password_failures).toBe(3);
    expect((await postLogin(t.app, USER, "a wrong guess")).statusCode).toBe(429);
  });
});
