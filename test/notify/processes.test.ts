/**
 * The end-to-end case: two real server processes (src/server.ts, each with its own
 * dispatcher) share one PostgreSQL outbox and one SMTP server; every lock notice arrives once.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/auth/index.ts";
import { loadConfig } from "../../src/config.ts";
import { createRuntime } from "../../src/runtime.ts";
import { listNotices, openDatabase, type Database } from "../../src/store/index.ts";
import { createTestDatabase, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { PASSWORD, THRESHOLD } from "./harness.ts";
import { startTestSmtp, tokenIn, type TestSmtp } from "./smtp.ts";

const USERS = 10;
const emails = Array.from({ length: USERS }, (_, i) => `p${i}@example.com`);

async function wrongLogin(baseUrl: string, email: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: "wrong-password" }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("two server processes on one PostgreSQL outbox", () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let smtp: TestSmtp;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    testDatabase = await createTestDatabase("postgres");
    smtp = await startTestSmtp({ delayMs: 10 });
    const env = {
      DEADBOLT_DATABASE_URL: testDatabase.url,
      DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
      DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
      DEADBOLT_THROTTLE_PER_MINUTE: "0",
      DEADBOLT_LOG_LEVEL: "warn",
      DEADBOLT_SMTP_URL: smtp.url,
      DEADBOLT_PUBLIC_URL: "http://deadbolt.test",
    };
    const runtime = await createRuntime(loadConfig(env), { log: pino({ level: "silent" }) });
    try {
      for (const email of emails) {
        const created = await createUser(runtime.auth, { email, password: PASSWORD, role: "user" }, { by: "cli", client: { ip: null, userAgent: null } });
        if (!created.ok) throw new Error(`createUser ${email}: ${created.error}`);
      }
    } finally {
      await runtime.close();
    }
    servers = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
    database = openDatabase(testDatabase.url);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await database?.close();
    await smtp?.close();
    await testDatabase?.drop();
  });

  it("every lock notice arrives exactly once, sent by the processes' own dispatchers", async () => {
    // Each user's attempts are spread over both processes, all users at once.
    const statuses = await Promise.all(emails.flatMap((email) =>
      Array.from({ length: THRESHOLD + 2 }, (_, i) => wrongLogin(servers[i % 2]!.url, email))));
    expect(statuses.every((s) => s === 401)).toBe(true);
    const deadline = Date.now() + 20_000;
    while (smtp.mails.length < USERS && Date.now() < deadline) await sleep(50);
    // Longer than a poll interval: a second dispatcher would have sent any duplicate by now.
    await sleep(6_000);
    for (const email of emails) expect(smtp.to(email), email).toHaveLength(1);
    expect(smtp.mails).toHaveLength(USERS);
    const rows = await listNotices(database.db);
    expect(rows.map((r) => `${r.kind}:${r.status}:${r.attempts}`)).toEqual(Array(USERS).fill("lock_notice:sent:1"));
    // The links point at the public URL and carry a token of the right shape.
    expect(tokenIn(smtp.mails[0], "unlock")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  }, 60_000);
});
