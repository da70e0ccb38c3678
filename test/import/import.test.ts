import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARGON2_OPTIONS, login, needsUpgrade } from "../../src/auth/index.ts";
import { findUserByEmail, listEvents } from "../../src/store/index.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";
import { cliEnv, json, openRuntime, runCli, type Env } from "../cli/helpers.ts";

const CLIENT = { ip: "203.0.113.30", userAgent: "import-test" };

/**
 * Hashes as other systems store them: bcrypt in its three prefixes, argon2i, argon2id with other
 * settings. Two are of passwords the policy refuses for new ones: imported hashes are not checked.
 */
async function legacyUsers(): Promise<{ lines: string[]; passwords: Record<string, string> }> {
  const bcrypt2b = bcrypt.hashSync("bcrypt-b password", 4);
  const bcrypt2y = bcrypt.hashSync("Password1!", 5).replace(/^\$2b\$/, "$2y$");
  const bcrypt2a = bcrypt.hashSync("bcrypt-a password", 4).replace(/^\$2b\$/, "$2a$");
  const argon2i = await hash("12345678", { algorithm: 1, memoryCost: 4096, timeCost: 3, parallelism: 1 });
  const argon2id = await hash("argon2id password", { algorithm: 2, memoryCost: 8192, timeCost: 2, parallelism: 1 });
  const rows = [
    { email: "B2B@Example.com", passwordHash: bcrypt2b, role: "admin", createdAt: "2021-03-04T05:06:07Z" },
    { email: "b2y@example.com", passwordHash: bcrypt2y },
    { email: "b2a@example.com", passwordHash: bcrypt2a, role: "user" },
    { email: "a2i@example.com", passwordHash: argon2i },
    { email: "a2id@example.com", passwordHash: argon2id },
    { email: "nohash@example.com" },
  ];
  return {
    lines: rows.map((row) => JSON.stringify(row)),
    passwords: {
      "b2b@example.com": "bcrypt-b password", "b2y@example.com": "Password1!", "b2a@example.com": "bcrypt-a password",
      "a2i@example.com": "12345678", "a2id@example.com": "argon2id password",
    },
  };
}

describe.each(DIALECTS)("deadbolt user import (%s)", (dialect) => {
  let database: TestDatabase;
  let env: Env;
  let dir: string;
  let fixture: Awaited<ReturnType<typeof legacyUsers>>;
  const file = (name: string, lines: readonly string[]): string => {
    const path = join(dir, name);
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  };

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database);
    dir = mkdtempSync(join(tmpdir(), "deadbolt-import-"));
    fixture = await legacyUsers();
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
  });

  it("refuses a file with a bad line, naming each line, and imports nothing", async () => {
    const bad = file("bad.jsonl", [
      fixture.lines[0] as string,
      "{not json",
      JSON.stringify({ email: "x@example.com", passwordHash: "$argon2d$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA" }),
      "",
      JSON.stringify({ email: "plain@example.com", password: "hunter22" }),
      JSON.stringify({ email: "b2b@example.com" }),
      JSON.stringify({ email: "ok@example.com", role: "root" }),
    ]);
    const result = await runCli(["user", "import", bad], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("imported 0, skipped 0, invalid 5\n");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.slice(0, 5).map((line) => line.split(":")[0])).toEqual(["line 2", "line 3", "line 5", "line 6", "line 7"]);
    expect(lines[1]).toMatch(/argon2id\/argon2i PHC string or a bcrypt/);
    expect(lines[2]).toMatch(/plain-text passwords are not imported/);
    expect(lines[3]).toMatch(/b2b@example\.com already appears on line 1/);
    expect(lines[5]).toBe(`deadbolt: 5 invalid lines in ${bad}; nothing was imported`);
    const runtime = await openRuntime(env);
    try {
      expect(await findUserByEmail(runtime.auth.database.db, "b2b@example.com")).toBeUndefined();
    } finally {
      await runtime.close();
    }
  });

  it("validates with --dry-run without writing, then imports and prints the counts", async () => {
    const path = file("users.jsonl", fixture.lines);
    const dry = await runCli(["user", "import", path, "--dry-run"], { env });
    expect(dry.stderr).toBe("");
    expect(dry.stdout).toBe("dry run, nothing written: imported 6, skipped 0, invalid 0\n");
    const result = await runCli(["user", "import", path], { env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("imported 6, skipped 0, invalid 0\n");

    const runtime = await openRuntime(env);
    try {
      const admin = await findUserByEmail(runtime.auth.database.db, "b2b@example.com");
      expect(admin).toMatchObject({ role: "admin", created_at: Date.parse("2021-03-04T05:06:07Z") });
      expect(admin?.password_hash).toMatch(/^\$2b\$04\$/);
      const events = await listEvents(runtime.auth.database.db, { type: "user.created", order: "oldest" });
      expect(events).toHaveLength(6);
      expect(events[0]).toMatchObject({ email: "b2b@example.com", userId: admin?.id, details: { role: "admin", via: "import", by: "cli" } });
    } finally {
      await runtime.close();
    }
  });

  it("a second import of the same file skips everyone and changes nothing", async () => {
    const path = file("users.jsonl", fixture.lines);
    const result = await runCli(["user", "import", path, "--json"], { env });
    expect(result.code).toBe(0);
    expect(json(result)).toEqual({ imported: 0, skipped: 6, invalid: 0, dryRun: false, problems: [] });
    const runtime = await openRuntime(env);
    try {
      expect(await listEvents(runtime.auth.database.db, { type: "user.created", order: "oldest" })).toHaveLength(6);
    } finally {
      await runtime.close();
    }
  });

  it("bcrypt and argon2 users sign in; the hash becomes deadbolt's argon2id at the first login", async () => {
    const runtime = await openRuntime(env);
    try {
      const db = runtime.auth.database.db;
      for (const [email, password] of Object.entries(fixture.passwords)) {
        const before = (await findUserByEmail(db, email))?.password_hash ?? "";
        expect(needsUpgrade(before)).toBe(true);
        expect((await login(runtime.auth, { email, password: `${password}!`, client: CLIENT })).kind, email).toBe("failed");
        expect((await findUserByEmail(db, email))?.password_hash, "a failure upgrades nothing").toBe(before);
        expect((await login(runtime.auth, { email, password, client: CLIENT })).kind, email).toBe("authenticated");
        const after = (await findUserByEmail(db, email))?.password_hash ?? "";
        expect(after).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=1\\$`));
        expect(needsUpgrade(after)).toBe(false);
        expect((await login(runtime.auth, { email, password, client: CLIENT })).kind, `${email} again`).toBe("authenticated");
        expect((await findUserByEmail(db, email))?.password_hash, "upgraded once").toBe(after);
      }
      // A user imported without a hash cannot sign in until they reset the password.
      expect((await login(runtime.auth, { email: "nohash@example.com", password: "", client: CLIENT })).kind).toBe("failed");
      expect((await login(runtime.auth, { email: "nohash@example.com", password: "anything", client: CLIENT })).kind).toBe("failed");
    } finally {
      await runtime.close();
    }
  });

  it("answers a missing file with exit 1 and one line", async () => {
    const result = await runCli(["user", "import", join(dir, "missing.jsonl")], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`deadbolt: no such file: ${join(dir, "missing.jsonl")}\n`);
  });
});
