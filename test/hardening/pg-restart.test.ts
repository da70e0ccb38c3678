/**
 * Issue 8, "Database restart": PostgreSQL is stopped (`pg_ctl stop -m fast`) under a load of
 * logins and started again. While it is down every answer is 503 (never 200 for a wrong
 * password, never 500); it serves again within seconds of the restart; every mail queued is
 * delivered exactly once (one notice was in the middle of its SMTP exchange at the stop).
 *
 * It needs a PostgreSQL cluster of its own (stopping the shared one would break every other
 * test): created with initdb under /tmp and run as the `postgres` user, so only as root (CI).
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/auth/index.ts";
import { loadConfig } from "../../src/config.ts";
import { messageIdOf } from "../../src/notify/dispatcher.ts";
import { createRuntime } from "../../src/runtime.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { startTestSmtp, type TestSmtp } from "../notify/smtp.ts";
import { TEST_SECRET_KEY } from "../support/databases.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

/** This test's own cluster; override where 55433 is taken. */
const PORT = Number(process.env.DEADBOLT_TEST_PG_RESTART_PORT ?? 55433);
const PASSWORD = "a restart-proof passphrase";
const REGULAR = "steady@example.com";
const PUBLIC_URL = "http://deadbolt.test";
const THRESHOLD = 5;
const CONCURRENCY = 6;
const TIMEOUT_MS = 300_000;

function postgresBin(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "pg_ctl"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], "bin");
}

const BIN = postgresBin();
const IS_ROOT = process.getuid?.() === 0;
const SKIP_REASON = !IS_ROOT ? "needs root (initdb and pg_ctl run as user postgres through runuser); CI runs as root"
  : BIN === null ? "no PostgreSQL server binaries under /usr/lib/postgresql" : null;

function asPostgres(command: string, args: readonly string[]): string {
  return execFileSync("runuser", ["-u", "postgres", "--", join(BIN!, command), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

interface Answer {
  readonly kind: "wrong" | "correct";
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly status: number | "no answer";
}

async function login(url: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Logins until `stop()`: wrong passwords spread over many accounts, and a correct one now and then. */
function startLoad(url: string, targets: readonly string[]): { answers: Answer[]; stop(): Promise<void> } {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (running) {
      const i = n++;
      const kind = i % 4 === 0 ? "correct" : "wrong";
      const startedAt = performance.now();
      let status: Answer["status"];
      try {
        status = kind === "correct" ? await login(url, REGULAR, PASSWORD) : await login(url, targets[i % targets.length]!, "not the passphrase");
      } catch {
        status = "no answer";
      }
      answers.push({ kind, startedAt, finishedAt: performance.now(), status });
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function until(what: string, limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(SKIP_REASON !== null)(`PostgreSQL restarted under load${SKIP_REASON === null ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  let dir: string;
  let smtp: TestSmtp;
  let server: ServerProcess | undefined;
  let database: Database | undefined;
  const url = `postgres://postgres@127.0.0.1:${PORT}/postgres`;
  // Few enough that some lock (and mail) before the stop.
  const targets = Array.from({ length: 8 }, (_, i) => `target${i}@example.com`);
  const pgCtl = (...args: string[]): string => asPostgres("pg_ctl", ["-D", dir, ...args]);
  const start = (): string => pgCtl("-w", "-t", "60", "-l", join(dir, "log"), "-o", `-p ${PORT} -k /tmp -c listen_addresses=127.0.0.1`, "start");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "deadbolt-pg-restart-"));
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    asPostgres("initdb", ["-D", dir, "-A", "trust", "-U", "postgres", "--no-sync"]);
    start();
    // Slow enough that a notice is still in its SMTP exchange when the database stops.
    smtp = await startTestSmtp({ delayMs: 2_000 });
    const env = {
      DEADBOLT_DATABASE_URL: url, DEADBOLT_SECRET_KEY: TEST_SECRET_KEY, DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
      DEADBOLT_THROTTLE_PER_MINUTE: "0", DEADBOLT_SMTP_URL: smtp.url, DEADBOLT_PUBLIC_URL: PUBLIC_URL, DEADBOLT_LOG_LEVEL: "warn",
    };
    const runtime = await createRuntime(loadConfig(env), { log: pino({ level: "silent" }) });
    try {
      for (const email of [REGULAR, ...targets]) {
        const created = await createUser(runtime.auth, { email, password: PASSWORD, role: "user" }, { by: "cli", client: { ip: null, userAgent: null } });
        if (!created.ok) throw new Error(`createUser ${email}: ${created.error}`);
      }
    } finally {
      await runtime.close();
    }
    server = await startServerProcess({ env, management: true });
  }, TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await database?.close();
    await smtp?.close();
    if (dir !== undefined) {
      try {
        pgCtl("-m", "immediate", "stop");
      } catch {
        // Not running.
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("503 while it is down (never 200 for a wrong password, never 500), back within seconds, every mail once", async () => {
    const base = server!.url;
    const load = startLoad(base, targets);
    // Up: the load locks accounts, and their notices go out through the slow SMTP server.
    await until("a notice in its SMTP exchange", 60_000, async () => smtp.receiving() > 0);
    const stopped = performance.now();
    pgCtl("-m", "fast", "-w", "stop");
    const down = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const ready = await fetch(`${server!.managementUrl!}/readyz`);
    expect(ready.status).toBe(503);
    start();
    const restarted = performance.now();
    const backInMs = await until("a correct login after the restart", 30_000, async () => (await login(base, REGULAR, PASSWORD)) === 200);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await load.stop();

    const { answers } = load;
    const tally = (list: readonly Answer[]): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const a of list) counts[`${a.kind} ${a.status}`] = (counts[`${a.kind} ${a.status}`] ?? 0) + 1;
      return counts;
    };
    // Asked and answered while it was down (one asked just before the restart may be served by it).
    const whileDown = answers.filter((a) => a.startedAt >= down && a.finishedAt < restarted);
    expect(whileDown.length, "requests were made while the database was down").toBeGreaterThan(0);
    expect(whileDown.filter((a) => a.status !== 503), JSON.stringify(tally(whileDown))).toEqual([]);
    expect(answers.filter((a) => a.kind === "wrong" && a.status === 200)).toEqual([]);
    expect(answers.filter((a) => a.status === 500 || a.status === "no answer"), JSON.stringify(tally(answers))).toEqual([]);
    expect(answers.filter((a) => a.startedAt > restarted + backInMs + 1_000 && a.status === 503), "still 503 after recovery").toEqual([]);

    // Every queued mail is delivered, exactly once: the notice whose SMTP exchange spanned the
    // stop was marked sent when the database came back, not re-sent after its lease.
    database = openDatabase(url);
    const db = database;
    await until("every mail sent", 60_000, async () =>
      (await db.db.selectFrom("outbox").select("id").where("status", "=", "pending").execute()).length === 0);
    const rows = await db.db.selectFrom("outbox").select(["id", "dedupe_key", "status"]).execute();
    const copies = new Map<string, number>();
    for (const mail of smtp.mails) copies.set(mail.messageId, (copies.get(mail.messageId) ?? 0) + 1);
    const sent = rows.filter((row) => row.status === "sent");
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.map((row) => copies.get(messageIdOf(row.dedupe_key, PUBLIC_URL)) ?? 0).filter((n) => n !== 1)).toEqual([]);
    expect(smtp.mails).toHaveLength(sent.length);
    console.info(`pg-restart: ${answers.length} logins (${whileDown.length} while down, all 503), stop took ${Math.round(down - stopped)} ms, ` +
      `service back ${Math.round(backInMs)} ms after the restart, ${sent.length} mails each delivered once; ${JSON.stringify(tally(answers))}`);
  }, TIMEOUT_MS);
});
