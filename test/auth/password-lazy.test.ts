/**
 * The dictionary is loaded on the first new password, not at start-up, so it adds nothing to
 * the idle footprint (issue 11); once loaded it stays small. The first test runs in its own
 * process (nothing loaded it before); the second watches a real server process's modules.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, createUser, inviteUser } from "../../src/auth/index.ts";
import { commonWordsLoaded } from "../../src/auth/password-dictionary.ts";
import { openRuntime } from "../cli/helpers.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const WATCH = fileURLToPath(new URL("../support/module-watch.ts", import.meta.url));
const ADMIN = "root@example.com";
const ADMIN_PASSWORD = "the root admin keeps spare keys";
/** The old Set of strings left 65 MB; the packed list and one collection leave about 20 MB. */
const MAX_RSS_COST_MB = 45;

/** The resident memory of a process, from /proc (Linux); null elsewhere. */
function rssMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

describe("the password dictionary", () => {
  let t: TestApp | undefined;
  let server: ServerProcess | undefined;
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    await server?.stop();
    await database?.drop();
    t = undefined;
    server = undefined;
    database = undefined;
  });

  it("is not loaded by start-up, logins, invitations or refusals by length; the first real check loads it", async () => {
    t = await createTestApp("sqlite");
    expect((await postLogin(t.app, "nobody@example.com", "whatever it is")).statusCode).toBe(401);
    const short = await createUser(t.auth, { email: "ann@example.com", password: "short", role: "user" }, CLI_ACTOR);
    expect(short).toMatchObject({ ok: false, error: "weak_password" });
    expect(await inviteUser(t.auth, { email: "invited@example.com", role: "user" }, CLI_ACTOR)).toMatchObject({ ok: true, invited: true });
    expect(commonWordsLoaded()).toBe(false);
    await t.createUser("ann@example.com", "amber kettle on a windy ridge");
    expect(commonWordsLoaded()).toBe(true);
  });

  it("a server process imports no dictionary module until a password is set, and then costs little memory", async () => {
    database = await createTestDatabase("sqlite");
    const env = { DEADBOLT_DATABASE_URL: database.url, DEADBOLT_LOG_LEVEL: "warn" };
    const setup = await openRuntime(env);
    try {
      expect(await createUser(setup.auth, { email: ADMIN, password: ADMIN_PASSWORD, role: "admin" }, CLI_ACTOR)).toMatchObject({ ok: true });
    } finally {
      await setup.close();
    }
    server = await startServerProcess({ env: { ...env, NODE_OPTIONS: `--import=${WATCH}`, MODULE_WATCH: "/@zxcvbn-ts/" } });
    const loaded = (): string[] => (server?.output() ?? "").split("\n").filter((line) => line.startsWith("module-watch: "));
    const post = (path: string, body: unknown, token?: string) => fetch(`${server?.url}${path}`, {
      method: "POST", body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    });

    // What an idle or login-only server does, and every refusal decided before the dictionary.
    expect((await fetch(`${server.url}/login`)).status).toBe(200);
    expect((await post("/api/auth/login", { email: "nobody@example.com", password: "whatever it is" })).status).toBe(401);
    const login = await post("/api/auth/login", { email: ADMIN, password: ADMIN_PASSWORD });
    const { token } = await login.json() as { token: string };
    expect((await post("/api/admin/users", { email: "short@example.com", password: "short" }, token)).status).toBe(400);
    expect((await post("/api/admin/users", { email: "long@example.com", password: "x".repeat(1025) }, token)).status).toBe(400);
    expect((await post("/api/admin/users", { email: "invited@example.com" }, token)).status).toBe(201);
    expect((await post("/api/auth/password/reset", { token: "x".repeat(43), password: "amber kettle on a windy ridge" })).status).toBe(400);
    expect(loaded(), server.output()).toEqual([]);
    const before = rssMb(server.pid);

    const created = await post("/api/admin/users", { email: "ann@example.com", password: "amber kettle on a windy ridge" }, token);
    expect(created.status).toBe(201);
    // The watch sees the import: this test would fail if anything loaded the packages earlier.
    expect(loaded().some((line) => line.includes("@zxcvbn-ts/language-en"))).toBe(true);
    expect((await post("/api/admin/users", { email: "bob@example.com", password: "Password1!" }, token)).status).toBe(400);
    const after = rssMb(server.pid);
    if (before !== null && after !== null) {
      expect(after - before, `RSS ${before.toFixed(1)} MB → ${after.toFixed(1)} MB`).toBeLessThan(MAX_RSS_COST_MB);
    }
  });
});
