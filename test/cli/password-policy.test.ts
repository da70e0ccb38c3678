/**
 * SPEC "Passwords" through the CLI: `user create` and `user reset-password` with
 * --password-stdin refuse what the policy refuses with exit 1 and one line on stderr, and a
 * breach API that cannot answer is a warning line, not silence. The policy does not depend on
 * the dialect (test/cli/user.test.ts runs the commands on both), so this file uses SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { deadUrl, startHibpStub } from "../support/hibp-stub.ts";
import { cliEnv, fakeTerminal, runCli, type Env } from "./helpers.ts";

const USER = "ann.smith@example.com";
const PASSPHRASE = "amber kettle on a windy ridge";

/** Each refused password with the start of its reason, as the CLI says it. */
const REFUSED: readonly (readonly [string, string])[] = [
  ["password", "is one of the most common passwords"],
  ["12345678", "is a run or a repetition"],
  ["Password1!", "is one of the most common passwords"],
  ["p@ssw0rd", "is one of the most common passwords"],
  ["aaaaaaaa", "is a run or a repetition"],
  ["annsmith", "is built from the e-mail address"],
  ["ann.smith1", "is built from the e-mail address"],
  ["example.com", "is built from the e-mail address"],
  ["Lockbox2024", "is built from the e-mail address or the name of this site"],
  ["login.acme-corp.test", "is built from the e-mail address or the name of this site"],
  ["acmecorp!", "is built from the e-mail address or the name of this site"],
  ["seven77", "must be at least 8 characters"],
  ["x".repeat(1025), "must be at most 1024 characters"],
];

describe("new passwords on the CLI", () => {
  let database: TestDatabase;
  let env: Env;

  /** The CLI in this process (the dictionary loads once), as `printf '%s\n' password | deadbolt …` runs it. */
  async function run(args: string[], password: string, extra: Env = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const terminal = fakeTerminal({ env: { ...env, ...extra }, isTTY: false });
    terminal.input.end(`${password}\n`);
    const code = await main(args, terminal.io);
    return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
  }

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    env = cliEnv(database, { DEADBOLT_APP_NAME: "Lockbox", DEADBOLT_PUBLIC_URL: "https://login.acme-corp.test" });
  });

  afterAll(async () => {
    await database.drop();
  });

  it("user create and user reset-password refuse each weak password with exit 1 and one line, and accept a passphrase", async () => {
    for (const [password, reason] of REFUSED) {
      const created = await run(["user", "create", USER, "--password-stdin"], password);
      expect(created, password).toEqual({ code: 1, stdout: "", stderr: expect.stringMatching(/^deadbolt: the password [^\n]*; nothing was changed\n$/) });
      expect(created.stderr.startsWith(`deadbolt: the password ${reason}`), created.stderr).toBe(true);
    }
    expect((await run(["user", "show", USER], "")).code, "nothing was created").toBe(1);
    expect((await run(["user", "create", USER, "--password-stdin"], PASSPHRASE)).code).toBe(0);

    for (const [password, reason] of REFUSED) {
      const reset = await run(["user", "reset-password", USER, "--password-stdin"], password);
      expect(reset, password).toEqual({ code: 1, stdout: "", stderr: expect.stringMatching(/^deadbolt: the password [^\n]*; nothing was changed\n$/) });
      expect(reset.stderr.startsWith(`deadbolt: the password ${reason}`), reset.stderr).toBe(true);
    }
    const reset = await run(["user", "reset-password", USER, "--password-stdin"], "cobalt dunes under a quiet moon");
    expect(reset).toMatchObject({ code: 0, stderr: "" });
    // Another user's e-mail is no context word for Ann's neighbour.
    expect((await run(["user", "create", "kim@example.net", "--password-stdin"], "annsmith")).code).toBe(0);
  });

  it("with DEADBOLT_BREACHED_PASSWORDS=hibp: a breached password is exit 1; an unreachable range API is exit 0 with a warning line", async () => {
    const stub = await startHibpStub({ breached: { [PASSPHRASE]: 3 } });
    try {
      const breached = await run(["user", "create", "breached@example.com", "--password-stdin"], PASSPHRASE,
        { DEADBOLT_BREACHED_PASSWORDS: "hibp", DEADBOLT_HIBP_URL: stub.url });
      expect(breached).toEqual({
        code: 1, stdout: "", stderr: "deadbolt: the password has appeared in a data breach (Have I Been Pwned), so guessers try it first; nothing was changed\n",
      });
      expect(stub.requests.map((r) => r.url)).toEqual([expect.stringMatching(/^\/range\/[0-9A-F]{5}$/)]);
    } finally {
      await stub.close();
    }
    // A real process, as an operator runs it: the warning is the only line on stderr.
    const unreachable = await runCli(["user", "create", "failopen@example.com", "--password-stdin"], {
      env: { ...env, DEADBOLT_BREACHED_PASSWORDS: "hibp", DEADBOLT_HIBP_URL: await deadUrl() }, input: `${PASSPHRASE}\n`,
    });
    expect(unreachable.code, unreachable.stderr).toBe(0);
    expect(unreachable.stdout).toMatch(/^created user failopen@example\.com\n/);
    expect(unreachable.stderr).toMatch(/^deadbolt: warning: breached-password check unavailable \(.+\); the new password was accepted without it\n$/);
    const events = await runCli(["events", "--type", "password.breach_check_failed", "--json"], { env });
    expect(JSON.parse(events.stdout)).toEqual([expect.objectContaining({ email: "failopen@example.com", type: "password.breach_check_failed" })]);
  });

  it("on a terminal the policy speaks before the second prompt, and the range API is asked once", async () => {
    const stub = await startHibpStub({ behaviour: 503 });
    try {
      const hibp = { DEADBOLT_BREACHED_PASSWORDS: "hibp", DEADBOLT_HIBP_URL: stub.url };
      const weak = fakeTerminal({ env: { ...env, ...hibp } });
      weak.input.write("p@ssw0rd\r");
      expect(await main(["user", "create", "tty@example.com"], weak.io)).toBe(1);
      expect(weak.stderr()).toMatch(/^New password: \ndeadbolt: the password is one of the most common passwords [^\n]*; nothing was changed\n$/);
      expect(stub.requests).toEqual([]);

      const terminal = fakeTerminal({ env: { ...env, ...hibp } });
      terminal.input.write(`${PASSPHRASE}\r${PASSPHRASE}\r`);
      expect(await main(["user", "create", "tty@example.com"], terminal.io)).toBe(0);
      expect(terminal.stderr()).toMatch(/^New password: \nRepeat the password: \ndeadbolt: warning: breached-password check unavailable \(HTTP 503\)[^\n]*\n$/);
      expect(stub.requests).toHaveLength(1);
    } finally {
      await stub.close();
    }
  });
});
