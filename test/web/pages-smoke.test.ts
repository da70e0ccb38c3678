import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";

describe("pages smoke", () => {
  let t: TestApp;
  afterEach(async () => t?.close());
  it("renders login, signs in with a form and shows the account page", async () => {
    t = await createTestApp("sqlite");
    await t.createUser("p@example.com", "right-password");
    const page = await t.app.inject({ method: "GET", url: "/login" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<label for="email">');
    const css = await t.app.inject({ method: "GET", url: "/assets/app.css" });
    expect(css.statusCode).toBe(200);
    const bad = await t.app.inject({ method: "POST", url: "/login", payload: "email=p%40example.com&password=nope", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(bad.statusCode).toBe(401);
    const ok = await t.app.inject({ method: "POST", url: "/login", payload: "email=p%40example.com&password=right-password", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/account");
    const cookie = String(ok.headers["set-cookie"]).split(";")[0]!;
    const account = await t.app.inject({ method: "GET", url: "/account", headers: { cookie } });
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain("p@example.com");
  });

  it("the forgot form answers the same for known and unknown addresses, and 400 for no address", async () => {
    t = await createTestApp("sqlite");
    await t.createUser("known@example.com", "right-password");
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const known = await t.app.inject({ method: "POST", url: "/forgot", payload: "email=known%40example.com", headers: form });
    const unknown = await t.app.inject({ method: "POST", url: "/forgot", payload: "email=nobody%40example.com", headers: form });
    expect(known.statusCode).toBe(200);
    expect(unknown.body).toBe(known.body);
    expect(known.body).toContain("If an account exists for that address");
    const requested = await t.auth.database.db.selectFrom("events").select(["email", "user_id"])
      .where("type", "=", "password.reset_requested").orderBy("id").execute();
    expect(requested.map((e) => [e.email, e.user_id !== null])).toEqual([["known@example.com", true], ["nobody@example.com", false]]);
    const empty = await t.app.inject({ method: "POST", url: "/forgot", payload: "email=", headers: form });
    expect(empty.statusCode).toBe(400);
  });

  it("names the site as DEADBOLT_APP_NAME says, in the title and header of every kind of page", async () => {
    t = await createTestApp("sqlite", { env: { DEADBOLT_APP_NAME: "Acme <Sign-in>" } });
    for (const url of ["/login", "/forgot", "/reset?token=not-a-token", "/set-password?token=not-a-token", "/unlock?token=not-a-token"]) {
      const page = await t.app.inject({ method: "GET", url });
      expect(page.body, url).toMatch(/<title>[^<]+ · Acme &lt;Sign-in&gt;<\/title>/);
      expect(page.body, url).toContain('<a class="brand" href="/">Acme &lt;Sign-in&gt;</a>');
    }
  });

  it("with informative disclosure, says until when the account is locked, in the pages' one time format", async () => {
    t = await createTestApp("sqlite", { env: { DEADBOLT_LOCKOUT_DISCLOSURE: "informative", DEADBOLT_LOCKOUT_THRESHOLD: "2" } });
    await t.createUser("p@example.com", "right-password");
    const post = (password: string) => t.app.inject({
      method: "POST", url: "/login", payload: `email=p%40example.com&password=${password}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await post("nope");
    await post("nope");
    t.clock.advance(5 * 60_000);
    const locked = await post("right-password");
    expect(locked.body).toContain("The account is locked until 2026-11-22 12:15:00 UTC (in 10 min).");
  });
});
