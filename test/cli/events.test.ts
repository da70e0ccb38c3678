import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, type EventView } from "../../src/auth/index.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";
import { cliEnv, EVENT_FIELDS, json, openRuntime, runCli, type CliResult, type Env } from "./helpers.ts";

const HOUR = 3_600_000;
const CLIENT = { ip: "198.51.100.7", userAgent: "events-test" };

describe.each(DIALECTS)("deadbolt events (%s)", (dialect) => {
  let database: TestDatabase;
  let env: Env;
  let all: EventView[];
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { env });
  const events = async (...args: string[]): Promise<EventView[]> => {
    const result = await cli(["events", "--json", ...args]);
    expect(result.code).toBe(0);
    return json<EventView[]>(result);
  };

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database, { DEADBOLT_LOCKOUT_THRESHOLD: "3" });
    // Two hours ago: failed logins of an address that has no account.
    const past = await openRuntime(env, { now: () => Date.now() - 2 * HOUR });
    try {
      for (let i = 0; i < 2; i++) {
        await login(past.auth, { email: "ghost@example.com", password: "guess-password", client: CLIENT });
      }
    } finally {
      await past.close();
    }
    // Now: a user is created, locked by three wrong passwords, and unlocked from the CLI.
    expect((await runCli(["user", "create", "eve@example.com", "--password-stdin"], { env, input: "eve reads old maps\n" })).code)
      .toBe(0);
    const runtime = await openRuntime(env);
    try {
      for (let i = 0; i < 3; i++) {
        await login(runtime.auth, { email: "eve@example.com", password: "wrong password", client: CLIENT });
      }
    } finally {
      await runtime.close();
    }
    expect((await cli(["user", "unlock", "eve@example.com"])).code).toBe(0);
    all = await events();
  });

  afterAll(async () => {
    await database.drop();
  });

  it("prints every event oldest first with the API's field names", () => {
    expect(all.map((event) => event.type)).toEqual([
      "login.failed", "login.failed", "user.created",
      "login.failed", "login.failed", "login.failed", "account.locked", "account.unlocked",
    ]);
    for (const event of all) {
      expect(Object.keys(event)).toEqual(EVENT_FIELDS);
      expect(new Date(event.at).toISOString()).toBe(event.at);
    }
    const ids = all.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(all[0]).toMatchObject({ email: "ghost@example.com", userId: null, ip: CLIENT.ip, userAgent: CLIENT.userAgent });
    expect(all[0]?.details).toMatchObject({ reason: "unknown_user" });
    expect(all.at(-1)?.details).toMatchObject({ by: "cli" });
  });

  it("filters by --type", async () => {
    const failed = await events("--type", "login.failed");
    expect(failed).toEqual(all.filter((event) => event.type === "login.failed"));
    expect(await events("--type", "account.locked")).toHaveLength(1);
  });

  it("filters by --user, including failed logins of an address without an account", async () => {
    expect(await events("--user", "EVE@example.com")).toEqual(all.filter((event) => event.email === "eve@example.com"));
    const ghost = await cli(["events", "--json", "--user", "ghost@example.com"]);
    expect(json<EventView[]>(ghost).map((event) => event.id)).toEqual(all.slice(0, 2).map((event) => event.id));
    expect(ghost.stderr).toMatch(/no user with e-mail ghost@example\.com/);
  });

  it("filters by --since", async () => {
    const recent = await events("--since", "1h");
    expect(recent).toEqual(all.slice(2));
    expect(await events("--since", "3h")).toEqual(all);
    expect(await events("--since", new Date(Date.now() - HOUR).toISOString())).toEqual(all.slice(2));
  });

  it("--limit N prints the newest N, still oldest first, and combines with filters", async () => {
    expect(await events("--limit", "3")).toEqual(all.slice(-3));
    expect(await events("--limit", "100")).toEqual(all);
    expect(await events("--type", "login.failed", "--limit", "2", "--user", "eve@example.com"))
      .toEqual(all.filter((event) => event.type === "login.failed" && event.email === "eve@example.com").slice(-2));
  });

  it("prints aligned columns without --json", async () => {
    const result = await cli(["events", "--type", "account.locked"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^AT\s+TYPE\s+E-MAIL\s+IP\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+account\.locked\s+eve@example\.com\s+198\.51\.100\.7\s+account locked until/);
    expect((await cli(["events", "--type", "mfa.enabled"])).stdout).toBe("no matching events\n");
  });

  it.each([
    [["--type", "login.nope"], /unknown event type "login\.nope"/],
    [["--since", "yesterday"], /--since/],
    // Issue 8: out of range is a usage error on both dialects, never a query one of them refuses.
    [["--since", "300000-01-01"], /--since/],
    [["--since", "99999999999d"], /--since/],
    [["--since", `${"9".repeat(30)}d`], /--since/],
    [["--limit", "0"], /--limit/],
    [["--limit", "ten"], /--limit/],
    [["--user"], /--user/],
    [["extra"], /unexpected argument "extra"/],
  ])("refuses %j as a usage error (exit 2)", async (args, message) => {
    const result = await cli(["events", ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/usage: deadbolt events /);
  });
});
