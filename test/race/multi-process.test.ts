/**
 * SPEC "Lockout rules" 8, end to end: three server processes share one database, and a burst
 * of concurrent attempts spread over them runs at most `threshold` real password checks, while
 * a burst of correct logins all succeed.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/auth/index.ts";
import { DEFAULT_LOGIN_FAILURE_MESSAGE, loadConfig } from "../../src/config.ts";
import { createRuntime } from "../../src/runtime.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { createTestDatabase, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";
import { eventTally } from "../support/event-tally.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const PROCESSES = 3;
const THRESHOLD = 5;
const WRONG_BURST = 300;
const CORRECT_BURST = 20;
const PASSWORD = "correct horse battery staple";
const TARGET = "target@example.com";
const REGULAR = "regular@example.com";
/**
 * About 12 s for the whole file on an idle 2-core machine (the 295 refused attempts each
 * still spend a dummy argon2 verification); generous limits keep a busy machine from failing it.
 */
const SLOW_MACHINE_TIMEOUT_MS = 120_000;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function postLogin(baseUrl: string, email: string, password: string): Promise<Answer> {
  // Global fetch keeps connections alive (undici's default agent).
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One Prometheus series (`name{labels}` exactly as exposed) summed over the processes' /metrics. */
async function metricTotal(servers: readonly ServerProcess[], series: string): Promise<number> {
  const pattern = new RegExp(`^${escapeRegExp(series)} (\\S+)$`, "m");
  const values = await Promise.all(servers.map(async (server) => {
    const match = pattern.exec(await (await fetch(`${server.managementUrl!}/metrics`)).text());
    // prom-client omits a label set that was never incremented.
    return match ? Number(match[1]) : 0;
  }));
  return values.reduce((sum, n) => sum + n, 0);
}

const realVerifications = (servers: readonly ServerProcess[]): Promise<number> =>
  metricTotal(servers, 'deadbolt_password_verifications_total{kind="real"}');

/** Attempts that waited more than 10 ms for a verification slot. */
async function slotWaitsOver10ms(servers: readonly ServerProcess[]): Promise<number> {
  const all = await metricTotal(servers, "deadbolt_verification_slot_wait_seconds_count");
  return all - await metricTotal(servers, 'deadbolt_verification_slot_wait_seconds_bucket{le="0.01"}');
}

function tallyOf<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const item of items) tally[key(item)] = (tally[key(item)] ?? 0) + 1;
  return tally;
}

describe.each(["postgres", "sqlite"] as const)("three server processes on one %s database", (dialect) => {
  let testDatabase: TestDatabase;
  let database: Database;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    testDatabase = await createTestDatabase(dialect);
    const env = {
      DEADBOLT_DATABASE_URL: testDatabase.url,
      DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
      DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
      DEADBOLT_THROTTLE_PER_MINUTE: "0",
      DEADBOLT_LOG_LEVEL: "warn",
    };
    // Migrate and create the users before any server starts.
    const runtime = await createRuntime(loadConfig(env), { log: pino({ level: "silent" }) });
    try {
      for (const email of [TARGET, REGULAR]) {
        const created = await createUser(runtime.auth, { email, password: PASSWORD, role: "user" },
          { by: "cli", client: { ip: null, userAgent: null } });
        if (!created.ok) throw new Error(`createUser ${email}: ${created.error}`);
      }
    } finally {
      await runtime.close();
    }
    const started = await Promise.allSettled(Array.from({ length: PROCESSES }, () => startServerProcess({ env, management: true })));
    servers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    database = openDatabase(testDatabase.url);
  }, SLOW_MACHINE_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await database?.close();
    await testDatabase?.drop();
  });

  it(`${WRONG_BURST} concurrent wrong passwords run exactly ${THRESHOLD} real verifications, then the account is locked`, async () => {
    const before = await realVerifications(servers);
    const answers = await Promise.all(Array.from({ length: WRONG_BURST }, (_, i) =>
      postLogin(servers[i % PROCESSES]!.url, TARGET, `wrong password ${i}`)));

    // One answer for every failure: the generic 401, whatever happened behind it.
    expect(tallyOf(answers, (a) => `${a.status} ${JSON.stringify(a.body)}`)).toEqual({
      [`401 ${JSON.stringify({ error: "invalid_credentials", message: DEFAULT_LOGIN_FAILURE_MESSAGE })}`]: WRONG_BURST,
    });
    expect(await eventTally(database, TARGET, { lockoutOnly: true })).toEqual({
      "login.failed:wrong_password": THRESHOLD,
      "account.locked": 1,
      // Every surplus attempt waited for a slot, then saw the lock: none gave up ("throttled").
      "login.failed:locked": WRONG_BURST - THRESHOLD,
    });
    expect((await realVerifications(servers)) - before).toBe(THRESHOLD);
    // One lock episode, one notice: whichever process dispatches the outbox, never twice.
    const notices = await database.db.selectFrom("events").select("id")
      .where("email", "=", TARGET).where("type", "=", "notification.sent").execute();
    expect(notices.length).toBeLessThanOrEqual(1);

    const afterwards = await postLogin(servers[0]!.url, TARGET, PASSWORD);
    expect(afterwards.status).toBe(401);
    expect(afterwards.body).toEqual({ error: "invalid_credentials", message: DEFAULT_LOGIN_FAILURE_MESSAGE });
  }, SLOW_MACHINE_TIMEOUT_MS);

  it(`${CORRECT_BURST} concurrent correct logins all succeed (a surplus attempt waits for a slot)`, async () => {
    const before = await realVerifications(servers);
    const waitedBefore = await slotWaitsOver10ms(servers);
    const answers = await Promise.all(Array.from({ length: CORRECT_BURST }, (_, i) =>
      postLogin(servers[i % PROCESSES]!.url, REGULAR, PASSWORD)));

    expect(tallyOf(answers, (a) => `${a.status} ${String(a.body.status ?? a.body.error)}`))
      .toEqual({ "200 authenticated": CORRECT_BURST });
    expect(new Set(answers.map((a) => a.body.token)).size).toBe(CORRECT_BURST);
    expect(await eventTally(database, REGULAR, { lockoutOnly: true })).toEqual({ "login.succeeded": CORRECT_BURST });
    expect((await realVerifications(servers)) - before).toBe(CORRECT_BURST);
    // Only THRESHOLD slots exist, so the burst did exercise waiting, not just back-to-back logins.
    expect((await slotWaitsOver10ms(servers)) - waitedBefore).toBeGreaterThan(0);
  }, SLOW_MACHINE_TIMEOUT_MS);

  it("no process logged an error meanwhile (for example SQLITE_BUSY from a background job)", () => {
    const errors = servers.flatMap((server) => server.output().split("\n").filter((line) => /"level":(50|60)/.test(line)));
    expect(errors).toEqual([]);
  });
});
