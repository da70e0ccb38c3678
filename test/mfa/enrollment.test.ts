/** TOTP enrolment over HTTP: setup, confirm, secrets encrypted at rest, the key, turning it off. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { open } from "../../src/auth/secret-box.ts";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { countUnusedRecoveryCodes, findUserById } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { createTestDatabase, DIALECTS, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";
import {
  base32Decode, bearer, codeAt, enroll, eventsOf, failedLoginAnswer, expectGeneric401, me, PASSWORD, passwordStep,
  postMfa, signIn, STEP_MS, viewOf, wrongCode, WRONG_PASSWORD,
} from "./helpers.ts";

const SETUP = "/api/auth/mfa/totp/setup";
const CONFIRM = "/api/auth/mfa/totp/confirm";
const TOTP = "/api/auth/mfa/totp";

describe.each(DIALECTS)("TOTP enrolment (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("setup returns a base32 secret, its otpauth:// URL and an SVG QR code", async () => {
    t = await createTestApp(dialect);
    await t.createUser("setup@example.com", PASSWORD);
    const session = await signIn(t, "setup@example.com");
    const response = await t.app.inject({ method: "POST", url: SETUP, headers: bearer(session) });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { secret: string; otpauthUrl: string; qrSvg: string };
    expect(body.secret).toMatch(/^[A-Z2-7]+=*$/);
    expect(base32Decode(body.secret).length).toBeGreaterThanOrEqual(20);
    const url = new URL(body.otpauthUrl);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname)).toContain("setup@example.com");
    expect(url.searchParams.get("secret")).toBe(body.secret);
    expect(url.searchParams.get("issuer")).toBe("deadbolt");
    expect(url.searchParams.get("algorithm")).toBe("SHA1");
    expect(url.searchParams.get("digits")).toBe("6");
    expect(url.searchParams.get("period")).toBe("30");
    expect(body.qrSvg).toContain("<svg");
    // Setup alone does not turn anything on.
    expect((await viewOf(t, "setup@example.com")).mfaEnabled).toBe(false);
  });

  it("a wrong confirmation code is 400 invalid_code and leaves 2FA off; the right one enables it", async () => {
    t = await createTestApp(dialect);
    await t.createUser("confirm@example.com", PASSWORD);
    const session = await signIn(t, "confirm@example.com");
    const secret = base32Decode((await t.app.inject({ method: "POST", url: SETUP, headers: bearer(session) })).json().secret);

    const wrong = await t.app.inject({ method: "POST", url: CONFIRM, headers: bearer(session), payload: { code: wrongCode(t, secret) } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toBe("invalid_code");
    expect((await me(t, session)).json().user.mfaEnabled).toBe(false);
    expect((await viewOf(t, "confirm@example.com")).mfaEnabled).toBe(false);
    expect((await postLogin(t.app, "confirm@example.com", PASSWORD)).json().status).toBe("authenticated");
    expect(await eventsOf(t, "confirm@example.com", "mfa.enabled")).toHaveLength(0);

    const right = await t.app.inject({ method: "POST", url: CONFIRM, headers: bearer(session), payload: { code: codeAt(t, secret) } });
    expect(right.statusCode, right.body).toBe(200);
    const codes = right.json().recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    expect((await viewOf(t, "confirm@example.com")).mfaEnabled).toBe(true);
    expect((await me(t, session)).json().user.mfaEnabled).toBe(true);
    expect(await eventsOf(t, "confirm@example.com", "mfa.enabled")).toHaveLength(1);
    const row = await findUserById(t.auth.database.db, (await viewOf(t, "confirm@example.com")).id);
    expect(await countUnusedRecoveryCodes(t.auth.database.db, row!.id)).toBe(10);
    // Stored hashed: no spelling of any code appears in the table.
    const stored = JSON.stringify(await t.auth.database.db.selectFrom("recovery_codes").selectAll().execute());
    for (const code of codes) {
      expect(stored).not.toContain(code);
      expect(stored.toLowerCase()).not.toContain(code.replace("-", ""));
    }
    // Enabled: a second setup is refused.
    const again = await t.app.inject({ method: "POST", url: SETUP, headers: bearer(session) });
    expect(again.statusCode).toBe(409);
  });

  it("stores the secret encrypted (AES-256-GCM, bound to the key and the user)", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "sealed@example.com");
    const row = await findUserById(t.auth.database.db, a.user.id);
    const stored = row!.totp_secret!;
    expect(stored).toEqual(expect.any(String));
    for (const plain of [a.base32, a.secret.toString("hex"), a.secret.toString("base64"), a.secret.toString("base64url")]) {
      expect(stored.toUpperCase()).not.toContain(plain.toUpperCase().replace(/=+$/, ""));
    }
    // The configured key opens it (so the checks below are not vacuous)…
    expect(open(Buffer.from(TEST_SECRET_KEY, "base64"), stored, a.user.id).equals(a.secret)).toBe(true);
    // …another key does not, nor does the same ciphertext on another user's row.
    expect(() => open(randomBytes(32), stored, a.user.id)).toThrow();
    expect(() => open(Buffer.from(TEST_SECRET_KEY, "base64"), stored, "another-user-id")).toThrow();
    expect(row!.totp_pending_secret).toBeNull();
  });

  it("DELETE with a wrong password is a 401 counted as a password failure; the right one turns 2FA off", async () => {
    t = await createTestApp(dialect);
    const a = await enroll(t, "off@example.com");
    const reference = await failedLoginAnswer(t);

    const wrong = await t.app.inject({ method: "DELETE", url: TOTP, headers: bearer(a.session), payload: { password: WRONG_PASSWORD } });
    expectGeneric401(wrong, reference);
    const afterWrong = await viewOf(t, a.email);
    expect(afterWrong.failedPasswordAttempts).toBe(1);
    expect(afterWrong.mfaEnabled).toBe(true);
    const failed = await eventsOf(t, a.email, "login.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.details).toMatchObject({ reason: "wrong_password", factor: "password", via: "mfa_disable" });

    const right = await t.app.inject({ method: "DELETE", url: TOTP, headers: bearer(a.session), payload: { password: PASSWORD } });
    expect(right.statusCode, right.body).toBe(204);
    expect((await viewOf(t, a.email)).mfaEnabled).toBe(false);
    expect(await eventsOf(t, a.email, "mfa.disabled")).toHaveLength(1);
    expect(await countUnusedRecoveryCodes(t.auth.database.db, a.user.id)).toBe(0);
    const row = await findUserById(t.auth.database.db, a.user.id);
    expect(row!.totp_secret).toBeNull();

    const login = await postLogin(t.app, a.email, PASSWORD);
    expect(login.statusCode).toBe(200);
    expect(login.json().status).toBe("authenticated");
    expect(String(login.headers["set-cookie"])).toContain("deadbolt_session=");
  });

  it("wrong passwords on DELETE reach the password threshold and lock the account", async () => {
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "3" } });
    const a = await enroll(t, "off-lock@example.com");
    for (let i = 0; i < 3; i++) {
      const r = await t.app.inject({ method: "DELETE", url: TOTP, headers: bearer(a.session), payload: { password: WRONG_PASSWORD } });
      expect(r.statusCode).toBe(401);
    }
    const view = await viewOf(t, a.email);
    expect(view.status).toBe("locked");
    expect(view.lockReason).toBe("password");
    expect(view.mfaEnabled).toBe(true);
    expect((await postLogin(t.app, a.email, PASSWORD)).statusCode).toBe(401);
  });

  it("the enrolment endpoints need a session", async () => {
    t = await createTestApp(dialect);
    const requests = [
      { method: "POST" as const, url: SETUP },
      { method: "POST" as const, url: CONFIRM, payload: { code: "123456" } },
      { method: "DELETE" as const, url: TOTP, payload: { password: PASSWORD } },
    ];
    for (const request of requests) {
      for (const headers of [{}, bearer("x".repeat(43))]) {
        const response = await t.app.inject({ ...request, headers });
        expect(response.statusCode, `${request.method} ${request.url}`).toBe(401);
        expect(response.json().error).toBe("unauthenticated");
      }
    }
  });
});

describe("the secret key on SQLite without DEADBOLT_SECRET_KEY", () => {
  let database: TestDatabase | undefined;
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await database?.drop();
  });

  it("is generated beside the database (mode 0600) and reused after a restart", async () => {
    database = await createTestDatabase("sqlite");
    const dbPath = database.url.slice("sqlite:".length);
    const keyFile = join(dirname(dbPath), "deadbolt.key");
    expect(existsSync(keyFile)).toBe(false);

    const first = await createTestApp("sqlite", { database, env: { DEADBOLT_SECRET_KEY: "" } });
    apps.push(first);
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64");
    expect(key).toHaveLength(32);
    expect(key.equals(Buffer.from(TEST_SECRET_KEY, "base64"))).toBe(false);
    const a = await enroll(first, "restart@example.com");
    const row = await findUserById(first.auth.database.db, a.user.id);
    expect(open(key, row!.totp_secret!, a.user.id).equals(a.secret)).toBe(true);
    await apps.pop()!.close();

    const second = await createTestApp("sqlite", { database, env: { DEADBOLT_SECRET_KEY: "" } });
    apps.push(second);
    expect(Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64").equals(key)).toBe(true);
    // The new runtime's clock starts where the first one did: move past the confirmed step.
    second.clock.advance(2 * STEP_MS);
    const mfaToken = await passwordStep(second, a.email);
    const done = await postMfa(second, mfaToken, codeAt(second, a.secret));
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().status).toBe("authenticated");
  });
});

describe("DEADBOLT_SECRET_KEY with PostgreSQL", () => {
  it("is required: loadConfig throws one clear ConfigError line naming it", () => {
    for (const url of ["postgres://u@127.0.0.1:5432/db", "postgresql://u@127.0.0.1/db"]) {
      for (const env of [{}, { DEADBOLT_SECRET_KEY: "" }, { DEADBOLT_SECRET_KEY: "   " }]) {
        let error: unknown;
        try {
          loadConfig({ DEADBOLT_DATABASE_URL: url, ...env });
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(ConfigError);
        const message = (error as ConfigError).message;
        expect(message).toContain("DEADBOLT_SECRET_KEY");
        expect(message).toMatch(/postgres/i);
        expect(message).not.toContain("\n");
      }
    }
  });

  it("is accepted when set, and a malformed key is refused without echoing it", () => {
    const config = loadConfig({ DEADBOLT_DATABASE_URL: "postgres://u@127.0.0.1/db", DEADBOLT_SECRET_KEY: TEST_SECRET_KEY });
    expect(config.secretKey?.equals(Buffer.from(TEST_SECRET_KEY, "base64"))).toBe(true);
    const short = randomBytes(16).toString("base64");
    expect(() => loadConfig({ DEADBOLT_DATABASE_URL: "postgres://u@127.0.0.1/db", DEADBOLT_SECRET_KEY: short }))
      .toThrow(ConfigError);
    try {
      loadConfig({ DEADBOLT_DATABASE_URL: "postgres://u@127.0.0.1/db", DEADBOLT_SECRET_KEY: short });
    } catch (error) {
      expect((error as Error).message).toContain("DEADBOLT_SECRET_KEY");
      expect((error as Error).message).not.toContain(short);
    }
  });

  it("is optional with SQLite (generated later beside the file)", () => {
    expect(loadConfig({ DEADBOLT_DATABASE_URL: "sqlite:./x/deadbolt.db" }).secretKey).toBeNull();
  });
});
