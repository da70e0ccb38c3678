/**
 * The dictionary is loaded on the first new password, not at start-up, so it adds nothing to
 * the idle footprint (issue 11). This file runs in its own process: nothing loaded it before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, createUser } from "../../src/auth/index.ts";
import { commonWordsLoaded } from "../../src/auth/password-dictionary.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";

describe("the password dictionary", () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("is not loaded by start-up, logins or refusals by length; the first real check loads it", async () => {
    t = await createTestApp("sqlite");
    expect((await postLogin(t.app, "nobody@example.com", "whatever it is")).statusCode).toBe(401);
    const short = await createUser(t.auth, { email: "ann@example.com", password: "short", role: "user" }, CLI_ACTOR);
    expect(short).toMatchObject({ ok: false, error: "weak_password" });
    expect(commonWordsLoaded()).toBe(false);
    await t.createUser("ann@example.com", "amber kettle on a windy ridge");
    expect(commonWordsLoaded()).toBe(true);
  });
});
