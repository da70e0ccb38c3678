import type { LightMyRequestResponse } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser } from "../../src/auth/index.ts";
import { FAILURE_QUANTUM_MS } from "../../src/http/login-answer.ts";
import { postLogin } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, headersWithoutDate, me, median, signIn, viewOf } from "../http/helpers.ts";
import { createHarness, failLogins, MINUTE, PASSWORD, postForm, postJson, THRESHOLD, type Harness } from "./harness.ts";
import { tokenIn } from "./smtp.ts";

const USER = "carol@example.com";
const NEW_PASSWORD = "a-brand-new-passphrase";
/** Timing samples per kind of address (the median ignores a slow outlier). */
const ROUNDS = 5;

describe.each(DIALECTS)("password reset (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  function forgot(email: string): Promise<LightMyRequestResponse> {
    return postJson(h.t, "/api/auth/password/forgot", { email });
  }

  /** Requests a reset for USER and returns the token of the mail that arrived. */
  async function resetToken(email = USER): Promise<string> {
    expect((await forgot(email)).statusCode).toBe(202);
    expect(await h.drain()).toBe(1);
    return tokenIn(h.smtp.to(email).at(-1), "reset");
  }

  it("forgot answers known, unknown, odd and locked addresses identically, on the timing grid", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await h.t.createUser("locked@example.com", PASSWORD);
    await failLogins(h.t, "locked@example.com", THRESHOLD);
    const addresses = { known: USER, unknown: "nobody@example.com", odd: "not-an@address", locked: "locked@example.com" };
    const answers: LightMyRequestResponse[] = [];
    const times: Record<string, number[]> = { known: [], unknown: [], odd: [], locked: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, email] of Object.entries(addresses)) {
        const started = performance.now();
        answers.push(await forgot(email));
        times[name]!.push(performance.now() - started);
      }
    }
    const reference = headersWithoutDate(answers[0]!);
    for (const answer of answers) {
      expect(answer.statusCode).toBe(202);
      expect(answer.body).toBe('{"status":"accepted"}');
      expect(headersWithoutDate(answer)).toEqual(reference);
    }
    // Every answer waits for the next step of the grid, so the work done does not show.
    for (const samples of Object.values(times)) {
      for (const ms of samples) expect(ms).toBeGreaterThanOrEqual(FAILURE_QUANTUM_MS - 1);
    }
    expect(Math.abs(median(times.known!) - median(times.unknown!))).toBeLessThan(FAILURE_QUANTUM_MS / 2);
    const requested = await events(h.t, { type: "password.reset_requested" });
    expect(requested.map((e) => e.details.known)).toEqual(Array(ROUNDS).fill([true, false, false, true]).flat());
    await h.drain();
    expect(h.smtp.to(USER)).toHaveLength(ROUNDS);
    expect(h.smtp.to("nobody@example.com")).toHaveLength(0);
    // The locked account got its lock notice and a reset mail for each request.
    expect(h.smtp.to("locked@example.com").map((m) => m.subject.split(" ")[0])).toEqual(["Your", ...Array(ROUNDS).fill("Reset")]);
  });

  it("a reset clears a lock, ends every session, and the new password works", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const session = await signIn(h.t, USER, PASSWORD);
    await failLogins(h.t, USER, THRESHOLD);
    expect((await viewOf(h.t, USER)).status).toBe("locked");
    expect((await me(h.t, session)).statusCode).toBe(200);
    await h.drain();
    const token = await resetToken();
    const response = await postJson(h.t, "/api/auth/password/reset", { token, password: NEW_PASSWORD });
    expect(response.statusCode, response.body).toBe(204);
    const view = await viewOf(h.t, USER);
    expect(view).toMatchObject({ status: "active", failedPasswordAttempts: 0, lockedUntil: null });
    expect((await me(h.t, session)).statusCode).toBe(401);
    expect((await postLogin(h.t.app, USER, PASSWORD)).statusCode).toBe(401);
    expect((await postLogin(h.t.app, USER, NEW_PASSWORD)).statusCode).toBe(200);
    const trail = (await events(h.t, { email: USER })).map((e) => e.type);
    expect(trail).toContain("password.reset");
    expect((await events(h.t, { type: "account.unlocked" })).map((e) => e.details.by)).toEqual(["password_reset"]);
    const again = await postJson(h.t, "/api/auth/password/reset", { token, password: "yet-another-password" });
    expect(again.statusCode).toBe(400);
    expect(again.json().error).toBe("invalid_token");
  });

  it("a reset does not enable a disabled account", async () => {
    h = await createHarness(dialect);
    const user = await h.t.createUser(USER, PASSWORD);
    expect((await disableUser(h.t.auth, user.id, CLI_ACTOR)).ok).toBe(true);
    const token = await resetToken();
    expect((await postJson(h.t, "/api/auth/password/reset", { token, password: NEW_PASSWORD })).statusCode).toBe(204);
    expect((await viewOf(h.t, USER)).status).toBe("disabled");
    expect((await postLogin(h.t.app, USER, NEW_PASSWORD)).statusCode).toBe(401);
  });

  it("a new reset request voids the older links", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const first = await resetToken();
    const second = await resetToken();
    const old = await postJson(h.t, "/api/auth/password/reset", { token: first, password: NEW_PASSWORD });
    expect(old.statusCode).toBe(400);
    expect(old.json().error).toBe("invalid_token");
    expect((await postJson(h.t, "/api/auth/password/reset", { token: second, password: NEW_PASSWORD })).statusCode).toBe(204);
  });

  it("a reset link expires after one hour", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await h.t.createUser("dave@example.com", PASSWORD);
    const token = await resetToken();
    const other = await resetToken("dave@example.com");
    h.t.clock.advance(60 * MINUTE - 1);
    expect((await postJson(h.t, "/api/auth/password/reset", { token: other, password: NEW_PASSWORD })).statusCode).toBe(204);
    h.t.clock.advance(1);
    const expired = await postJson(h.t, "/api/auth/password/reset", { token, password: NEW_PASSWORD });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error).toBe("invalid_token");
    expect((await postLogin(h.t.app, USER, PASSWORD)).statusCode).toBe(200);
  });

  it("a weak password is refused without spending the token; unlock tokens do not reset", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await failLogins(h.t, USER, THRESHOLD);
    await h.drain();
    const unlock = tokenIn(h.smtp.to(USER)[0], "unlock");
    const wrongKind = await postJson(h.t, "/api/auth/password/reset", { token: unlock, password: NEW_PASSWORD });
    expect(wrongKind.json().error).toBe("invalid_token");
    const token = tokenIn(h.smtp.to(USER)[0], "reset");
    const weak = await postJson(h.t, "/api/auth/password/reset", { token, password: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error).toBe("weak_password");
    expect((await postJson(h.t, "/api/auth/password/reset", { token, password: NEW_PASSWORD })).statusCode).toBe(204);
    expect((await viewOf(h.t, USER)).status).toBe("active");
  });

  it("the recovery API is documented in OpenAPI under the tag recovery; the pages are not", async () => {
    h = await createHarness(dialect);
    const spec = (await h.t.app.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const path of ["/api/auth/password/forgot", "/api/auth/password/reset", "/api/auth/unlock"]) {
      expect(spec.paths[path]?.post?.tags, path).toEqual(["recovery"]);
    }
    expect(spec.paths["/unlock"]).toBeUndefined();
    expect(spec.paths["/reset"]).toBeUndefined();
  });

  it("the reset page shows a labelled form, never spends the token on GET, and applies the form", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const token = await resetToken();
    const page = await h.t.app.inject({ method: "GET", url: `/reset?token=${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.body).toContain('<form method="post" action="/reset">');
    expect(page.body).toContain(`<input type="hidden" name="token" value="${token}">`);
    for (const id of ["password", "confirm"]) {
      expect(page.body).toContain(`<label for="${id}">`);
      expect(page.body).toContain(`<input id="${id}" name="${id}" type="password"`);
    }
    expect(page.body).not.toMatch(/<script|style=/);
    const mismatch = await postForm(h.t, "/reset", { token, password: NEW_PASSWORD, confirm: "something-else" });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain("The two passwords are not the same.");
    const weak = await postForm(h.t, "/reset", { token, password: "short", confirm: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain("at least 8 characters");
    const done = await postForm(h.t, "/reset", { token, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain("Your password has been changed");
    expect((await postLogin(h.t.app, USER, NEW_PASSWORD)).statusCode).toBe(200);
    const spent = await h.t.app.inject({ method: "GET", url: `/reset?token=${token}` });
    expect(spent.statusCode).toBe(400);
    expect(spent.body).toContain('href="/forgot"');
  });
});
