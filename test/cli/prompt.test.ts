import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserView } from "../../src/auth/index.ts";
import { CliError } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { createSecretReader, readLine } from "../../src/cli/prompt.ts";
import { findUserByEmail } from "../../src/store/index.ts";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { cliEnv, fakeTerminal, openRuntime, type Env } from "./helpers.ts";

describe("readLine (--password-stdin)", () => {
  const lineOf = (...chunks: (string | Buffer)[]): Promise<string | null> => {
    const { input } = fakeTerminal();
    const line = readLine(input);
    for (const chunk of chunks) input.write(chunk);
    input.end();
    return line;
  };

  it("returns the first line without its \\n or \\r\\n", async () => {
    expect(await lineOf("secret one\n")).toBe("secret one");
    expect(await lineOf("secret two\r\nsecond line\n")).toBe("secret two");
    expect(await lineOf("  spaces kept  \n")).toBe("  spaces kept  ");
  });

  it("joins chunks, including a UTF-8 character split between two", async () => {
    const bytes = Buffer.from("pässwörd\n", "utf8");
    expect(await lineOf(bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5))).toBe("pässwörd");
  });

  it("takes a last line without a newline, and null for empty input", async () => {
    expect(await lineOf("no newline")).toBe("no newline");
    expect(await lineOf("\n")).toBe("");
    expect(await lineOf()).toBeNull();
  });
});

describe("createSecretReader (terminal prompt)", () => {
  it("reads with echo off, honours backspace and keeps typed-ahead input for the next read", async () => {
    const terminal = fakeTerminal();
    const reader = createSecretReader(terminal.io);
    terminal.input.write("abx\x7fc\rsecond\r");
    expect(await reader.read("First: ")).toBe("abc");
    expect(await reader.read("Second: ")).toBe("second");
    expect(terminal.stderr()).toBe("First: \nSecond: \n");
    expect(terminal.rawModes).toEqual([true, false, false]);
  });

  it("cancels on Ctrl-C", async () => {
    const terminal = fakeTerminal();
    const reading = createSecretReader(terminal.io).read("Password: ");
    terminal.input.write("abc\x03");
    await expect(reading).rejects.toThrow(CliError);
    expect(terminal.rawModes.at(-1)).toBe(false);
  });
});

describe("user create / reset-password on a terminal", () => {
  let database: TestDatabase;
  let env: Env;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    env = cliEnv(database);
  });

  afterAll(async () => {
    await database.drop();
  });

  it("prompts twice without echo and creates the user", async () => {
    const terminal = fakeTerminal({ env });
    terminal.input.write("typed secret 1\r");
    terminal.input.write("typed secret 1\r");
    expect(await main(["user", "create", "tty@example.com", "--json"], terminal.io)).toBe(0);
    expect((JSON.parse(terminal.stdout()) as UserView).email).toBe("tty@example.com");
    expect(terminal.stderr()).toBe("New password: \nRepeat the password: \n");
    const runtime = await openRuntime(env);
    try {
      const row = await findUserByEmail(runtime.auth.database.db, "tty@example.com");
      expect(await runtime.auth.hasher.verify(row?.password_hash ?? "", "typed secret 1")).toBe(true);
    } finally {
      await runtime.close();
    }
  });

  it("refuses two different passwords and creates nothing", async () => {
    const terminal = fakeTerminal({ env });
    terminal.input.write("first password\rsecond password\r");
    expect(await main(["user", "create", "mismatch@example.com"], terminal.io)).toBe(1);
    expect(terminal.stderr()).toMatch(/\ndeadbolt: the two passwords do not match; nothing was changed\n$/);
    const show = fakeTerminal({ env });
    expect(await main(["user", "show", "mismatch@example.com"], show.io)).toBe(1);
  });

  it("refuses a weak password before asking for it again", async () => {
    const terminal = fakeTerminal({ env });
    terminal.input.write("short\r");
    expect(await main(["user", "create", "weak@example.com"], terminal.io)).toBe(1);
    expect(terminal.stderr()).toBe("New password: \ndeadbolt: the password must be at least 8 characters (a passphrase of a few words is long and easy to remember); nothing was changed\n");
  });

  it("refuses to prompt when standard input is not a terminal", async () => {
    const terminal = fakeTerminal({ env, isTTY: false });
    expect(await main(["user", "create", "pipe@example.com"], terminal.io)).toBe(1);
    expect(terminal.stderr()).toMatch(/^deadbolt: standard input is not a terminal: pass --password-stdin/);
  });

  it("reset-password prompts on a terminal too", async () => {
    const terminal = fakeTerminal({ env });
    terminal.input.write("another secret\ranother secret\r");
    expect(await main(["user", "reset-password", "tty@example.com"], terminal.io)).toBe(0);
    expect(terminal.stdout()).toBe("tty@example.com: password reset; sessions ended\n");
  });
});
