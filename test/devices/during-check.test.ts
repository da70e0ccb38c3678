/**
 * What happens to an account while a trusted device's password is being checked wins: a
 * disable or a second-factor lock that lands mid-check gets the sign-in refused, with no
 * session, on both dialects. (The success path goes on with the row read when the slot was
 * taken; only its guarded update can notice the change.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { createArgon2Hasher, type Hasher } from "../../src/auth/index.ts";
import { findUserByEmail } from "../../src/store/index.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events } from "../http/helpers.ts";
import { login, PASSWORD, trustedBrowser } from "./support.ts";

const USER = "midway@example.com";

/** The real hasher; once `hold()` is called, the next verification waits until `release()`. */
async function holdingHasher() {
  const real = await createArgon2Hasher();
  let held: { reached: () => void; release: Promise<void> } | null = null;
  let reached!: Promise<void>;
  let release!: () => void;
  const hasher: Hasher = {
    ...real,
    async verify(hash, password, options) {
      const ok = await real.verify(hash, password, options);
      const gate = held;
      held = null;
      if (gate) {
        gate.reached();
        await gate.release;
      }
      return ok;
    },
  };
  return {
    hasher,
    hold() {
      let onReached!: () => void;
      reached = new Promise((resolve) => { onReached = resolve; });
      held = { reached: onReached, release: new Promise((resolve) => { release = resolve; }) };
      return { reached, release: () => release() };
    },
  };
}

describe.each(DIALECTS)("a trusted device's sign-in while the account changes (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  for (const change of ["disabled", "locked for the second factor"] as const) {
    it(`an account ${change} during the check gets no session`, async () => {
      const { hasher, hold } = await holdingHasher();
      t = await createTestApp(dialect, { hasher });
      await t.createUser(USER, PASSWORD);
      const browser = await trustedBrowser(t, USER);
      const user = (await findUserByEmail(t.auth.database.db, USER))!;
      const sessionsBefore = await t.auth.database.db.selectFrom("sessions").select("token_hash").execute();

      const check = hold();
      const answer = login(t, USER, PASSWORD, { cookie: browser });
      await check.reached;
      const set = change === "disabled"
        ? { disabled_reason: "admin" as const, disabled_at: t.clock.now() }
        : { lock_reason: "mfa" as const, locked_until: t.clock.now() + 60_000, locked_at: t.clock.now() };
      await t.auth.database.db.updateTable("users").set(set).where("id", "=", user.id).execute();
      check.release();

      expect((await answer).status).toBe(401);
      const sessionsAfter = await t.auth.database.db.selectFrom("sessions").select("token_hash").execute();
      expect(sessionsAfter).toHaveLength(sessionsBefore.length);
      expect(await events(t, { type: "login.succeeded" })).toHaveLength(1);
      const refused = (await events(t, { type: "login.failed" })).at(-1);
      expect(refused?.details).toMatchObject({ reason: change === "disabled" ? "disabled" : "locked", trustedDevice: true });
    });
  }
});
