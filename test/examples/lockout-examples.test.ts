/**
 * examples/express-lockout and examples/fastify-lockout, each run as two processes on one
 * SQLite file (the app's users table and the lockout's tables side by side): concurrent wrong
 * passwords spread over both processes run exactly `threshold` real checks, and an unknown
 * e-mail, a wrong password and a locked account get the same answer; the owner's browser,
 * trusted by its cookie since her last sign-in, still signs in while the account is locked.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { hash } from "@node-rs/argon2";
import SqliteDatabase from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARGON2_OPTIONS } from "../../src/auth/index.ts";

const THRESHOLD = 5;
const BURST = 40;

async function startExample(name: string, databasePath: string): Promise<{ child: ChildProcess; url: string }> {
  const main = fileURLToPath(new URL(`../../examples/${name}/main.ts`, import.meta.url));
  const child = spawn(process.execPath, [main], { env: { ...process.env, PORT: "0", DATABASE: databasePath }, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    if (/^http:\/\/127\.0\.0\.1:\d+$/.test(line)) return { child, url: line };
  }
  throw new Error(`${name} exited before printing its URL`);
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly type: string | null;
  readonly setCookie: string | null;
}

async function login(url: string, email: string, password: string, cookie?: string): Promise<Answer> {
  const response = await fetch(`${url}/login`, {
    method: "POST", headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) }, body: JSON.stringify({ email, password }),
  });
  return { status: response.status, body: await response.text(), type: response.headers.get("content-type"), setCookie: response.headers.get("set-cookie") };
}

describe.each(["express-lockout", "fastify-lockout"])("examples/%s on two processes", (name) => {
  let dir: string;
  let databasePath: string;
  const servers: { child: ChildProcess; url: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `deadbolt-${name}-`));
    databasePath = join(dir, "app.db");
    const users = new SqliteDatabase(databasePath);
    users.exec("CREATE TABLE app_users (email TEXT PRIMARY KEY, password_hash TEXT NOT NULL)");
    const insert = users.prepare("INSERT INTO app_users (email, password_hash) VALUES (?, ?)");
    insert.run("ada@example.com", await hash("ada's right password", ARGON2_OPTIONS));
    insert.run("bob@example.com", await hash("bob's right password", ARGON2_OPTIONS));
    users.close();
    servers.push(await startExample(name, databasePath), await startExample(name, databasePath));
  }, 120_000);

  afterAll(() => {
    for (const server of servers) server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts concurrent wrong passwords exactly across both processes, and answers every failure alike", async () => {
    const unknown = await login(servers[0]?.url ?? "", "nobody@example.com", "whatever");
    expect(unknown.status).toBe(401);
    expect(unknown.setCookie, "a failure trusts nothing").toBeNull();
    // Ada signs in once: her browser becomes a trusted device (an HttpOnly cookie).
    const first = await login(servers[0]?.url ?? "", "ada@example.com", "ada's right password");
    expect(first.status).toBe(200);
    expect(first.setCookie).toMatch(/^deadbolt_device=[\w-]{43}; .*HttpOnly/i);
    expect(first.setCookie).toMatch(/SameSite=Lax/i);
    const adasBrowser = first.setCookie?.split(";")[0] ?? "";

    const burst = await Promise.all(Array.from({ length: BURST }, (_, i) =>
      login(servers[i % 2]?.url ?? "", "ada@example.com", `wrong guess ${i}`)));
    for (const answer of burst) expect(answer).toEqual(unknown);
    const locked = await login(servers[1]?.url ?? "", "ada@example.com", "ada's right password");
    expect(locked, "a locked account answers like an unknown e-mail").toEqual(unknown);
    const trusted = await login(servers[1]?.url ?? "", "ada@example.com", "ada's right password", `theme=dark; ${adasBrowser}`);
    expect(trusted.status, "the guesses locked untrusted clients only, not Ada's own browser").toBe(200);
    expect(trusted.setCookie?.split(";")[0], "her browser keeps its token").toBe(adasBrowser);

    const db = new SqliteDatabase(databasePath, { readonly: true });
    try {
      const reasons = db.prepare(
        "SELECT json_extract(details, '$.reason') AS reason, count(*) AS n FROM deadbolt_events " +
        "WHERE email = 'ada@example.com' AND type = 'login.failed' GROUP BY 1 ORDER BY 1",
      ).all() as { reason: string; n: number }[];
      // Each `wrong_password` is one real argon2 check by the app's verify: exactly the threshold.
      expect(reasons).toEqual([{ reason: "locked", n: BURST - THRESHOLD + 1 }, { reason: "wrong_password", n: THRESHOLD }]);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[])
        .map((t) => t.name).filter((n) => !n.startsWith("deadbolt_") && !n.startsWith("sqlite_"));
      expect(tables, "the lockout's tables are prefixed beside the app's own").toEqual(["app_users"]);
    } finally {
      db.close();
    }

    const bob = await login(servers[1]?.url ?? "", "bob@example.com", "bob's right password");
    expect(bob.status).toBe(200);
    expect(JSON.parse(bob.body)).toEqual({ status: "signed_in", email: "bob@example.com" });
  }, 120_000);
});
