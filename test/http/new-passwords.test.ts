/**
 * SPEC "Passwords" over HTTP: every path that sets a password (admin create, change, reset by
 * API and by form, the account page) goes through the one policy; the breach check talks to
 * a local stub range server only.
 */
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createHibpClient, hashToken } from "../../src/auth/index.ts";
import { insertTokens } from "../../src/store/index.ts";
import { signIn, type Session } from "../admin/support.ts";
import { createTestApp, postLogin, type TestApp, type TestAppOptions } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { deadUrl, startHibpStub, type HibpStub } from "../support/hibp-stub.ts";
import { events, viewOf } from "./helpers.ts";

const ADMIN = "root@example.com";
const ADMIN_PASSWORD = "the root admin keeps spare keys";
const USER = "ann.smith@example.com";
const USER_PASSWORD = "ann walks the misty harbour";
const PASSPHRASE = "amber kettle on a windy ridge";
const COMMON = "Password1!";

describe.each(DIALECTS)("new passwords (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  let stub: HibpStub | undefined;
  afterEach(async () => {
    await t?.close();
    await stub?.close();
    stub = undefined;
  });

  async function start(options: TestAppOptions = {}): Promise<void> {
    t = await createTestApp(dialect, options);
    await t.createUser(ADMIN, ADMIN_PASSWORD, "admin");
    await t.createUser(USER, USER_PASSWORD);
    admin = await signIn(t, ADMIN, ADMIN_PASSWORD);
  }

  const createAs = (email: string, password: string) => t.app.inject({
    method: "POST", url: "/api/admin/users", headers: { authorization: `Bearer ${admin.token}` }, payload: { email, password },
  });
  const invite = (email: string) => t.app.inject({
    method: "POST", url: "/api/admin/users", headers: { authorization: `Bearer ${admin.token}` }, payload: { email },
  });
  const change = (session: Session, currentPassword: string, newPassword: string) => t.app.inject({
    method: "POST", url: "/api/auth/password/change", headers: { authorization: `Bearer ${session.token}` },
    payload: { currentPassword, newPassword },
  });
  const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) => t.app.inject({
    method: "POST", url, payload: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });
  const sameOrigin = (session: Session) => ({
    cookie: session.cookie, origin: new URL(t.config.publicUrl).origin, "sec-fetch-site": "same-origin",
  });

  /** A reset (or invitation) link's token for `email`, as a mail would carry it. */
  async function resetToken(email: string, kind: "reset" | "invite" = "reset"): Promise<string> {
    const row = await t.auth.database.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirstOrThrow();
    const token = randomBytes(32).toString("base64url");
    await insertTokens(t.auth.database.db, [{
      tokenHash: hashToken(token), kind, userId: row.id, now: t.clock.now(), expiresAt: t.clock.now() + 3_600_000,
    }]);
    return token;
  }

  function expectWeak(response: { statusCode: number; json(): unknown }, pattern: RegExp): void {
    expect(response.statusCode).toBe(400);
    const body = response.json() as { error: string; message: string };
    expect(body.error).toBe("weak_password");
    expect(body.message).toMatch(pattern);
  }

  it("every API path refuses a common password, saying why, and accepts a long passphrase", async () => {
    await start();
    expectWeak(await createAs("new@example.com", COMMON), /^The password is one of the most common passwords/);
    expect((await createAs("new@example.com", PASSPHRASE)).statusCode).toBe(201);

    const ann = await signIn(t, USER, USER_PASSWORD);
    expectWeak(await change(ann, USER_PASSWORD, "p@ssw0rd"), /common/);
    expectWeak(await change(ann, USER_PASSWORD, "qwertyuiop"), /run or a repetition/);
    expect((await change(ann, USER_PASSWORD, PASSPHRASE)).statusCode).toBe(204);

    const token = await resetToken(USER);
    const reset = (password: string) => t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password } });
    expectWeak(await reset("iloveyou"), /common/);
    // The refusal did not spend the link.
    expect((await reset("cobalt dunes under a quiet moon")).statusCode).toBe(204);
    expect((await postLogin(t.app, USER, "cobalt dunes under a quiet moon")).statusCode).toBe(200);
    expect((await events(t, { type: "password.breach_check_failed" }))).toEqual([]);
  });

  it("every path that sets a password refuses each weak one with its reason (API: 400 weak_password; pages: next to the field) and accepts a passphrase", async () => {
    await start({ env: { DEADBOLT_APP_NAME: "Lockbox", DEADBOLT_PUBLIC_URL: "https://login.acme-corp.test" } });
    const INVITED = "jo.bloggs@example.net";
    expect((await invite(INVITED)).statusCode).toBe(201);
    const SITE = /is built from the e-mail address or the name of this site/;
    /** The list, and the context words of the user whose password it is. */
    const weakFor = (email: string): (readonly [string, RegExp])[] => {
      const [local = "", domain = ""] = email.split("@");
      return [
        ["password", /is one of the most common passwords/], ["12345678", /is a run or a repetition/],
        ["Password1!", /is one of the most common passwords/], ["p@ssw0rd", /is one of the most common passwords/],
        ["aaaaaaaa", /is a run or a repetition/], [local.replace(".", ""), /is built from the e-mail address/],
        [`${local}2024!`, /is built from the e-mail address/], [domain, /is built from the e-mail address/],
        ["Lockbox2024", SITE], ["L0ckb0x!!", SITE], ["login.acme-corp.test", SITE], ["acme-corp1", SITE],
      ];
    };
    const ann = await signIn(t, USER, USER_PASSWORD);
    const resetLink = await resetToken(USER);
    const inviteLink = await resetToken(INVITED, "invite");
    const invitation = (await t.app.inject({ method: "GET", url: `/set-password?token=${inviteLink}` })).body;
    expect(invitation).toContain("Use at least 8 characters; longer is better. A passphrase of three or four unrelated words");
    expect(invitation).toContain("You do not need symbols, digits or capital letters.");
    const reason = (page: string): string => /<p class="field-error" id="(?:password|newPassword)-error" role="alert">([^<]*)<\/p>/.exec(page)?.[1] ?? page;
    // The e-mail of the user whose password it is: a new one for create, Ann's, the invited user's.
    const paths: readonly (readonly [string, string, (password: string) => Promise<{ statusCode: number; body: string; json(): unknown }>])[] = [
      ["POST /api/admin/users", "ann.leeway@example.org", (password) => createAs("ann.leeway@example.org", password)],
      ["POST /api/auth/password/change", USER, (password) => change(ann, USER_PASSWORD, password)],
      ["POST /api/auth/password/reset", USER, (password) => t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token: resetLink, password } })],
      ["POST /api/auth/password/reset (invitation)", INVITED, (password) => t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token: inviteLink, password } })],
      ["POST /reset", USER, (password) => form("/reset", { token: resetLink, password, confirm: password })],
      ["POST /set-password", INVITED, (password) => form("/set-password", { token: inviteLink, password, confirm: password })],
      ["POST /account/password", USER, (password) => form("/account/password", { currentPassword: USER_PASSWORD, newPassword: password, confirmPassword: password }, sameOrigin(ann))],
    ];
    for (const [path, email, send] of paths) {
      for (const [password, why] of weakFor(email)) {
        const answer = await send(password);
        if (path.startsWith("POST /api/")) {
          expectWeak(answer, why);
        } else {
          expect(answer.statusCode, `${path} ${password}`).toBe(400);
          expect(reason(answer.body), `${path} ${password}`).toMatch(new RegExp(`^The password ${why.source}`));
          expect(answer.body).not.toMatch(/<script/);
        }
      }
    }
    // Each path still takes a long passphrase (the links were not spent by the refusals).
    expect((await createAs("ann.leeway@example.org", PASSPHRASE)).statusCode).toBe(201);
    expect((await change(ann, USER_PASSWORD, PASSPHRASE)).statusCode).toBe(204);
    expect((await form("/set-password", { token: inviteLink, password: PASSPHRASE, confirm: PASSPHRASE })).statusCode).toBe(200);
    expect((await postLogin(t.app, INVITED, PASSPHRASE)).statusCode).toBe(200);
    expect((await t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token: resetLink, password: "cobalt dunes under a quiet moon" } })).statusCode).toBe(204);
    expect((await postLogin(t.app, USER, "cobalt dunes under a quiet moon")).statusCode).toBe(200);
  });

  it("too short or too long is weak_password with the reason on every API path (not a schema error), and counts nothing", async () => {
    await start();
    const ann = await signIn(t, USER, USER_PASSWORD);
    const token = await resetToken(USER);
    const reset = (password: string) => t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password } });
    const cases: readonly (readonly [string, RegExp])[] = [
      ["", /^The password must be at least 8 characters/], ["seven77", /^The password must be at least 8 characters/],
      ["x".repeat(1025), /^The password must be at most 1024 characters\.$/], ["🔒".repeat(1025), /^The password must be at most 1024 characters\.$/],
    ];
    for (const [password, reason] of cases) {
      expectWeak(await createAs("new@example.com", password), reason);
      expectWeak(await change(ann, USER_PASSWORD, password), reason);
      expectWeak(await reset(password), reason);
      // A wrong current password with a refused new one: the refusal comes first and counts nothing.
      expectWeak(await change(ann, "not the current password", password), reason);
    }
    expect((await viewOf(t, USER)).failedPasswordAttempts).toBe(0);
    // Characters, not UTF-16 units: 1,024 emoji (2,048 units) are within the limit, on the API and the form.
    const emoji = Array.from({ length: 1024 }, (_, i) => String.fromCodePoint(0x1f300 + ((i * 239) % 768))).join("");
    expect((await createAs("emoji@example.com", emoji)).statusCode).toBe(201);
    const page = await form("/reset", { token, password: emoji, confirm: emoji });
    expect(page.statusCode, page.body).toBe(200);
    expect((await postLogin(t.app, USER, emoji)).statusCode).toBe(200);
  });

  it("the reset and account forms show the failed rule next to the field, without JavaScript", async () => {
    await start();
    const token = await resetToken(USER);
    const page = await t.app.inject({ method: "GET", url: `/reset?token=${token}` });
    expect(page.body).toContain("A passphrase of three or four unrelated words");
    expect(page.body).toContain("You do not need symbols");

    const weak = await form("/reset", { token, password: "Sunshine2024", confirm: "Sunshine2024" });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toMatch(/aria-describedby="password-error password-guidance" aria-invalid="true"[^>]*>\s*<p class="field-error" id="password-error" role="alert">The password is one of the most common passwords/);
    expect(weak.body).not.toMatch(/<script/);
    const done = await form("/reset", { token, password: PASSPHRASE, confirm: PASSPHRASE });
    expect(done.statusCode).toBe(200);

    const ann = await signIn(t, USER, PASSPHRASE);
    const account = await t.app.inject({ method: "GET", url: "/account", headers: { cookie: ann.cookie } });
    expect(account.body).toContain("A passphrase of three or four unrelated words");
    const refused = await form("/account/password", { currentPassword: PASSPHRASE, newPassword: "annsmith1", confirmPassword: "annsmith1" }, sameOrigin(ann));
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/<p class="field-error" id="newPassword-error" role="alert">The password is built from the e-mail address/);
    const changed = await form("/account/password", { currentPassword: PASSPHRASE, newPassword: USER_PASSWORD, confirmPassword: USER_PASSWORD }, sameOrigin(ann));
    expect(changed.statusCode).toBe(200);
    expect(changed.body).toContain("Password changed.");
  });

  it("context words are each user's own, plus DEADBOLT_APP_NAME and the public host", async () => {
    await start({ env: { DEADBOLT_APP_NAME: "Lockbox", DEADBOLT_PUBLIC_URL: "https://login.acme-corp.test" } });
    expectWeak(await createAs("jo.bloggs@example.net", "JoBloggs2024"), /built from the e-mail address/);
    expect((await createAs("kim@example.net", "JoBloggs2024")).statusCode).toBe(201);
    for (const password of ["lockbox2024!", "L0ckb0x!!", "acmecorp2024", "login.acme-corp.test"]) {
      expectWeak(await createAs("lee@example.net", password), /the name of this site/);
    }
    // The default app name is no word of this site any more.
    expect((await createAs("lee@example.net", "deadbolt2024")).statusCode).toBe(201);
  });

  it("DEADBOLT_PASSWORD_MIN_LENGTH is the shortest new password (the login still accepts old ones)", async () => {
    await start({ env: { DEADBOLT_PASSWORD_MIN_LENGTH: "15" } });
    expectWeak(await createAs("new@example.com", "harbor velvet"), /at least 15 characters/);
    expect((await createAs("new@example.com", "harbor velvet cactus")).statusCode).toBe(201);
    expect((await postLogin(t.app, USER, USER_PASSWORD)).statusCode).toBe(200);
  });

  it("with DEADBOLT_BREACHED_PASSWORDS=hibp a breached password is refused; the range server sees 5 characters", async () => {
    stub = await startHibpStub({ breached: { [PASSPHRASE]: 1234 } });
    await start({ env: { DEADBOLT_BREACHED_PASSWORDS: "hibp", DEADBOLT_HIBP_URL: stub.url } });
    const before = stub.requests.length;
    // An invitation's random placeholder is nobody's password: it is not looked up.
    expect((await invite("invited@example.com")).statusCode).toBe(201);
    expectWeak(await createAs("new@example.com", PASSPHRASE), /appeared in a data breach/);
    expect((await createAs("new@example.com", "cobalt dunes under a quiet moon")).statusCode).toBe(201);
    // A password the local rules refuse never leaves the server at all.
    expectWeak(await createAs("other@example.com", COMMON), /common/);
    const sent = stub.requests.slice(before);
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(request.url).toMatch(/^\/range\/[0-9A-F]{5}$/);
      expect(request.headers["add-padding"]).toBe("true");
      expect(request.body).toBe("");
    }
  });

  it("an unreachable or hanging range API: the password is accepted, with a warning log and an event", async () => {
    const lines: Record<string, unknown>[] = [];
    await start({ env: { DEADBOLT_BREACHED_PASSWORDS: "hibp", DEADBOLT_HIBP_URL: await deadUrl() }, logLines: (l) => lines.push(l) });
    expect((await invite("invited@example.com")).statusCode).toBe(201);
    expect((await createAs("new@example.com", PASSPHRASE)).statusCode).toBe(201);
    expect(await events(t, { type: "password.breach_check_failed", email: "invited@example.com" })).toEqual([]);
    const [event, ...more] = await events(t, { type: "password.breach_check_failed", email: "new@example.com" });
    expect(more).toEqual([]);
    expect(event).toMatchObject({ email: "new@example.com", userId: null });
    expect(event?.message).toMatch(/^breached-password check unavailable \(.+\); the new password was accepted without it$/);
    const warning = lines.find((l) => l.event === "password.breach_check_failed" && l.email === "new@example.com");
    expect(warning).toMatchObject({ level: 40, email: "new@example.com" });
    await t.close();

    stub = await startHibpStub({ behaviour: "hang" });
    await start({ breached: createHibpClient({ baseUrl: stub.url, timeoutMs: 200 }) });
    const ann = await signIn(t, USER, USER_PASSWORD);
    expect((await change(ann, USER_PASSWORD, PASSPHRASE)).statusCode).toBe(204);
    expect((await events(t, { type: "password.breach_check_failed" })).map((e) => [e.email, e.details]))
      .toContainEqual([USER, { reason: "timed out" }]);
  });

  it("no input makes a 5xx: any string as a new password on every path is a 2xx or a 4xx (breach check on)", async () => {
    stub = await startHibpStub();
    await start({ env: { DEADBOLT_BREACHED_PASSWORDS: "hibp", DEADBOLT_HIBP_URL: stub.url } });
    await t.createUser("jo.bloggs@example.net", "jo keeps bees on the roof");
    const ann = await signIn(t, USER, USER_PASSWORD);
    const token = await resetToken(USER);
    const inviteLink = await resetToken("jo.bloggs@example.net", "invite");
    let n = 0;
    const everyPath = async (password: string): Promise<void> => {
      n++;
      const answers = await Promise.all([
        createAs(`fuzz${n}@example.com`, password),
        change(ann, "not the current password", password),
        t.app.inject({ method: "POST", url: "/api/auth/password/reset", payload: { token, password } }),
        form("/reset", { token: "x".repeat(43), password, confirm: password }),
        form("/reset", { token, password, confirm: password }),
        form("/set-password", { token: inviteLink, password, confirm: password }),
        form("/account/password", { currentPassword: "not the current password", newPassword: password, confirmPassword: password }, sameOrigin(ann)),
      ]);
      for (const answer of answers) expect(answer.statusCode, `${JSON.stringify(password.slice(0, 40))}: ${answer.body.slice(0, 300)}`).toBeLessThan(500);
    };
    // NUL, lone surrogates, separators and overrides, combining marks, the limits and far beyond them.
    for (const password of [
      "\u0000", "\u0000".repeat(12), "amber kettle\u0000 on a windy ridge", "\ud800".repeat(9), "amber kettle \udfff windy ridge",
      "\u2028\u2029\u202e\u2066 amber kettle", "e\u0301".repeat(600), "🔒".repeat(1024), "q".repeat(1024), "q".repeat(1025),
      "ſ".repeat(40), "İ".repeat(700), "\ufeff".repeat(9), "word ".repeat(6_000), "é".repeat(40_000),
    ]) await everyPath(password);
    await fc.assert(fc.asyncProperty(fc.string({ unit: "binary", maxLength: 1100 }), everyPath), { numRuns: 40 });
    expect(stub.requests.length, "accepted passwords were looked up").toBeGreaterThan(0);
  });
});
