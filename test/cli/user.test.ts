import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, type UserView } from "../../src/auth/index.ts";
import { findUserByEmail, listEvents } from "../../src/store/index.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";
import { cliEnv, json, openRuntime, runCli, USER_FIELDS, type CliResult, type Env } from "./helpers.ts";

const CLIENT = { ip: "203.0.113.9", userAgent: "cli-test" };

describe.each(DIALECTS)("deadbolt user (%s)", (dialect) => {
  let database: TestDatabase;
  let env: Env;
  const cli = (args: string[], input?: string): Promise<CliResult> => runCli(args, { env, input });

  async function create(email: string, password: string, extra: string[] = []): Promise<UserView> {
    const result = await cli(["user", "create", email, "--password-stdin", "--json", ...extra], `${password}\n`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    return json<UserView>(result);
  }

  async function loginAs(email: string, password: string): Promise<string> {
    const runtime = await openRuntime(env);
    try {
      return (await login(runtime.auth, { email, password, client: CLIENT })).kind;
    } finally {
      await runtime.close();
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database, { DEADBOLT_LOCKOUT_THRESHOLD: "3" });
    // One admin that stays active, so disabling other admins is allowed.
    await create("root@example.com", "root keeps the spare keys", ["--admin"]);
  });

  afterAll(async () => {
    await database.drop();
  });

  it("creates a user from one line of stdin without its CRLF, and the password works", async () => {
    const result = await cli(["user", "create", "Alice@Example.com", "--password-stdin", "--json"], "correct horse\r\nignored\n");
    expect(result.code).toBe(0);
    const user = json<UserView>(result);
    expect(Object.keys(user)).toEqual(USER_FIELDS);
    expect(user).toMatchObject({ email: "alice@example.com", role: "user", status: "active", failedPasswordAttempts: 0 });
    expect(await loginAs("alice@example.com", "correct horse")).toBe("authenticated");
  });

  it("strips a plain LF and verifies against the stored hash; --admin gives the admin role", async () => {
    const user = await create("bob@example.com", "pass word number 1", ["--admin"]);
    expect(user.role).toBe("admin");
    const runtime = await openRuntime(env);
    try {
      const row = await findUserByEmail(runtime.auth.database.db, "bob@example.com");
      expect(await runtime.auth.hasher.verify(row?.password_hash ?? "", "pass word number 1")).toBe(true);
      expect(await runtime.auth.hasher.verify(row?.password_hash ?? "", "pass word number 1\n")).toBe(false);
    } finally {
      await runtime.close();
    }
  });

  it("prints the created user readably without --json", async () => {
    const result = await cli(["user", "create", "carol@example.com", "--password-stdin"], "carol rides a green tram\n");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created user carol@example\.com\n/);
    expect(result.stdout).toMatch(/status:\s+active/);
  });

  it.each([
    ["a duplicate e-mail", ["alice@example.com"], "long enough password", /already exists/],
    ["a bad e-mail", ["not-an-email"], "long enough password", /not a valid e-mail/],
    ["a weak password", ["weak@example.com"], "short", /at least 8 characters/],
    ["a common password", ["weak@example.com"], "Password1!", /^deadbolt: the password is one of the most common passwords .*; nothing was changed\n$/],
    ["a password built from the e-mail", ["weak.user@example.com"], "WeakUser2024", /^deadbolt: the password is built from the e-mail address/],
    ["an empty stdin", ["empty@example.com"], undefined, /standard input is empty/],
  ])("refuses %s with exit 1 and one line", async (_name, args, input, message) => {
    const result = await cli(["user", "create", ...args, "--password-stdin"], input === undefined ? "" : `${input}\n`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("refuses to prompt when stdin is not a terminal", async () => {
    const result = await cli(["user", "create", "noprompt@example.com"], "whatever-password\n");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--password-stdin/);
    expect((await cli(["user", "show", "noprompt@example.com"])).code).toBe(1);
  });

  it("shows a user as U, and a missing one as exit 1", async () => {
    const shown = await cli(["user", "show", "ALICE@example.com", "--json"]);
    expect(shown.code).toBe(0);
    expect(Object.keys(json<UserView>(shown))).toEqual(USER_FIELDS);
    const human = await cli(["user", "show", "alice@example.com"]);
    expect(human.stdout).toMatch(/e-mail:\s+alice@example\.com/);
    const missing = await cli(["user", "show", "nobody@example.com"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("deadbolt: no user with e-mail nobody@example.com\n");
  });

  it("lists users as a JSON array of U, and as aligned columns", async () => {
    const listed = await cli(["user", "list", "--json"]);
    expect(listed.code).toBe(0);
    const users = json<UserView[]>(listed);
    expect(users.map((user) => user.email)).toEqual(
      ["alice@example.com", "bob@example.com", "carol@example.com", "root@example.com"]);
    for (const user of users) expect(Object.keys(user)).toEqual(USER_FIELDS);
    const human = await cli(["user", "list"]);
    const lines = human.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^E-MAIL\s+ROLE\s+STATUS\s+LOCKED UNTIL \/ REASON\s+FAILED PW/);
    expect(lines).toHaveLength(5);
    // Aligned: every row's ROLE starts where the header's does.
    const column = (lines[0] as string).indexOf("ROLE");
    for (const line of lines.slice(1)) expect(line.slice(column)).toMatch(/^(user|admin) /);
  });

  it("lists a user locked by failed logins with --locked, then unlocks it (audited by cli)", async () => {
    await create("locked@example.com", "a padlock of old brass");
    for (let i = 0; i < 3; i++) expect(await loginAs("locked@example.com", "wrong password")).toBe("failed");

    const locked = json<UserView[]>(await cli(["user", "list", "--locked", "--json"]));
    expect(locked.map((user) => user.email)).toEqual(["locked@example.com"]);
    expect(locked[0]).toMatchObject({ status: "locked", lockReason: "password", failedPasswordAttempts: 3, lastFailedIp: CLIENT.ip });
    expect(Date.parse(locked[0]?.lockedUntil ?? "")).toBeGreaterThan(Date.now());
    expect(json<UserView[]>(await cli(["user", "list", "--disabled", "--json"]))).toEqual([]);
    expect((await cli(["user", "list", "--locked"])).stdout).toMatch(/locked@example\.com\s+user\s+locked\s+\S+Z \(password\)\s+3/);

    const unlocked = await cli(["user", "unlock", "locked@example.com"]);
    expect(unlocked.code).toBe(0);
    expect(unlocked.stdout).toMatch(/^locked@example\.com: unlocked \(was locked until /);
    const user = json<UserView>(await cli(["user", "show", "locked@example.com", "--json"]));
    expect(user).toMatchObject({ status: "active", lockedUntil: null, failedPasswordAttempts: 0, lockoutCount: 0 });
    expect(json<UserView[]>(await cli(["user", "list", "--locked", "--json"]))).toEqual([]);

    const runtime = await openRuntime(env);
    try {
      const events = await listEvents(runtime.auth.database.db, { userId: user.id, type: "account.unlocked", order: "oldest" });
      expect(events).toHaveLength(1);
      expect(events[0]?.details).toMatchObject({ by: "cli", wasLocked: true });
    } finally {
      await runtime.close();
    }
    expect(await loginAs("locked@example.com", "a padlock of old brass")).toBe("authenticated");
  });

  it("disables and enables a user; a disabled user cannot log in", async () => {
    const disabled = await cli(["user", "disable", "carol@example.com", "--json"]);
    expect(disabled.code).toBe(0);
    expect(json<UserView>(disabled)).toMatchObject({ status: "disabled", disabledReason: "admin" });
    expect(json<UserView[]>(await cli(["user", "list", "--disabled", "--json"])).map((user) => user.email))
      .toEqual(["carol@example.com"]);
    expect(await loginAs("carol@example.com", "carol rides a green tram")).toBe("failed");
    expect((await cli(["user", "disable", "carol@example.com"])).stdout).toMatch(/already disabled \(admin\)/);

    const enabled = await cli(["user", "enable", "carol@example.com"]);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toBe("carol@example.com: enabled (was disabled: admin)\n");
    expect(json<UserView>(await cli(["user", "show", "carol@example.com", "--json"])).status).toBe("active");
    expect(await loginAs("carol@example.com", "carol rides a green tram")).toBe("authenticated");
  });

  it("never disables the last active admin", async () => {
    expect((await cli(["user", "disable", "bob@example.com"])).code).toBe(0);
    const refused = await cli(["user", "disable", "root@example.com"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^deadbolt: root@example\.com is the last active admin/);
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(json<UserView>(await cli(["user", "show", "root@example.com", "--json"])).status).toBe("active");
    expect((await cli(["user", "enable", "bob@example.com"])).code).toBe(0);
  });

  it("resets a password from stdin, clearing a lock but not a disable", async () => {
    for (let i = 0; i < 3; i++) await loginAs("alice@example.com", "wrong password");
    expect(json<UserView>(await cli(["user", "show", "alice@example.com", "--json"])).status).toBe("locked");

    const reset = await cli(["user", "reset-password", "alice@example.com", "--password-stdin"], "new secret 42\r\n");
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/password reset; sessions ended; lock cleared/);
    expect(json<UserView>(await cli(["user", "show", "alice@example.com", "--json"])))
      .toMatchObject({ status: "active", failedPasswordAttempts: 0 });
    expect(await loginAs("alice@example.com", "new secret 42")).toBe("authenticated");
    expect(await loginAs("alice@example.com", "correct horse")).toBe("failed");

    const weak = await cli(["user", "reset-password", "alice@example.com", "--password-stdin"], "short\n");
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/at least 8 characters/);
    const common = await cli(["user", "reset-password", "alice@example.com", "--password-stdin"], "qwerty123\n");
    expect(common.code).toBe(1);
    expect(common.stderr).toMatch(/^deadbolt: the password is a run or a repetition .*; nothing was changed\n$/);
    expect(await loginAs("alice@example.com", "new secret 42")).toBe("authenticated");
    const missing = await cli(["user", "reset-password", "nobody@example.com", "--password-stdin"], "long enough 1\n");
    expect(missing.code).toBe(1);
  });
});
