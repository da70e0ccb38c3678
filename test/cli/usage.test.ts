import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { cliEnv, fakeTerminal, runCli, type CliResult, type Env } from "./helpers.ts";

/** Runs `main` in-process: usage and help never touch the database, so no child process is needed. */
async function inProcess(args: string[], env: Env): Promise<CliResult> {
  const terminal = fakeTerminal({ env });
  const code = await main(args, terminal.io);
  return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

describe("deadbolt usage, help and configuration errors", () => {
  let database: TestDatabase;
  let env: Env;
  const cli = (args: string[], extra: Env = {}): Promise<CliResult> => runCli(args, { env: { ...env, ...extra } });

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    env = cliEnv(database);
  });

  afterAll(async () => {
    await database.drop();
  });

  it.each([
    [[], /missing command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["user"], /missing user command/],
    [["user", "rename", "a@example.com"], /unknown command "user rename"/],
    [["user", "show"], /missing <email>/],
    [["user", "unlock"], /missing <email>/],
    [["user", "create", "--password-stdin"], /missing <email>/],
    [["user", "show", "a@example.com", "b@example.com"], /unexpected argument "b@example\.com"/],
    [["user", "show", "a@example.com", "--verbose"], /Unknown option '--verbose'/],
    [["user", "list", "--locked", "--disabled"], /cannot be combined/],
    [["user", "list", "--json=yes"], /--json/],
    [["migrate", "now"], /unexpected argument "now"/],
  ])("%j is a usage error: exit 2 and a short usage on stderr", async (args, message) => {
    const result = await inProcess(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^usage: deadbolt /m);
    expect(result.stderr.split("\n").length).toBeLessThan(6);
  });

  it.each([
    [["--help"], /user create <email> \[--admin\] \[--password-stdin\]/],
    [["-h"], /events \[--user <email>\]/],
    [["help", "events"], /--limit N/],
    [["user", "--help"], /user reset-password <email>/],
    [["user", "create", "--help"], /--password-stdin/],
    [["user", "show", "-h"], /usage: deadbolt user show <email> \[--json\]/],
    [["events", "--help"], /oldest first/],
  ])("%j prints help on stdout with exit 0", async (args, text) => {
    const result = await inProcess(args, { ...env, DEADBOLT_LOCKOUT_THRESHOLD: "abc" });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(text);
  });

  it("exits 2 and 0 from the real binary too", async () => {
    const usage = await cli(["user", "show"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('deadbolt: missing <email>\nusage: deadbolt user show <email> [--json]\n' +
      'Run "deadbolt user show --help" for details.\n');
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: deadbolt <command> \[options\]/);
  });

  it("stops on an invalid setting with exit 1 and one line naming the variable", async () => {
    const result = await cli(["user", "list"], { DEADBOLT_LOCKOUT_THRESHOLD: "abc" });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.endsWith("\n")).toBe(true);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^deadbolt: DEADBOLT_LOCKOUT_THRESHOLD="abc" is invalid/);
  });

  it.each([["serve"], ["migrate"], ["events"]])("%s also checks the configuration first", async (command) => {
    const result = await cli([command], { DEADBOLT_LOCKOUT_WINDOW: "soon" });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^deadbolt: DEADBOLT_LOCKOUT_WINDOW=/)]);
  });

  it("reports an unreachable database in one line", async () => {
    const result = await cli(["user", "list"], {
      DEADBOLT_DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      DEADBOLT_SECRET_KEY: Buffer.alloc(32, 1).toString("base64"),
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^deadbolt: cannot reach the database: /)]);
  });

  it("migrate creates the schema and is idempotent", async () => {
    const first = await cli(["migrate"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+ migrations?: 001-initial(, [\w-]+)*\n$/);
    const second = await cli(["migrate"]);
    expect(second.stdout).toBe("database is up to date\n");
  });
});
