/**
 * Issue 8, "Crash": a server process is killed with SIGKILL while concurrent wrong and correct
 * attempts are in flight, then started again on the same database. Afterwards:
 * - each account's recorded failures lie between the failures its clients saw answered and that
 *   plus the attempts still in flight at the kill; its events agree with its counter;
 * - a lock queued exactly one notice, every queued mail is delivered, none twice (one
 *   Message-ID per outbox row), suppressed ones never;
 * - a correct password succeeds on the first try after the restart: the dead process's
 *   verification slots are reclaimed (its heartbeat stops), not refused as "busy".
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/auth/index.ts";
import { loadConfig } from "../../src/config.ts";
import { messageIdOf } from "../../src/notify/dispatcher.ts";
import { createRuntime } from "../../src/runtime.ts";
import { findUserByEmail, openDatabase, type Database } from "../../src/store/index.ts";
import { startTestSmtp, type TestSmtp } from "../notify/smtp.ts";
import { createTestDatabase, DIALECTS, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";
import { eventTally } from "../support/event-tally.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const THRESHOLD = 5;
const RUNS = 3;
/** Accounts that get exactly THRESHOLD wrong passwords each run: locked, unless the kill interrupts. */
const TARGETS_PER_RUN = 6;
const REGULARS = 3;
const CORRECT_PER_RUN = 12;
const CONCURRENCY = 8;
const PASSWORD = "a sturdy crash passphrase";
const PUBLIC_URL = "http://deadbolt.test";
const TIMEOUT_MS = 600_000;

type Outcome = "pending" | "in_flight" | number;

interface Attempt {
  readonly email: string;
  readonly correct: boolean;
  outcome: Outcome;
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

async function login(url: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Sends the attempts CONCURRENCY at a time and SIGKILLs the server once `killAfter` have been
 * answered; attempts not answered by then are `in_flight` (sent, maybe recorded) or never sent.
 */
async function loadThenKill(server: ServerProcess, attempts: Attempt[], killAfter: number): Promise<void> {
  let next = 0;
  let answered = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    while (!killed && next < attempts.length) {
      const attempt = attempts[next++]!;
      attempt.outcome = "in_flight";
      try {
        attempt.outcome = await login(server.url, attempt.email, attempt.correct ? PASSWORD : "a wrong passphrase");
      } catch {
        continue; // The connection died with the server: still in flight.
      }
      answered += 1;
      if (answered >= killAfter && !killed) {
        killed = true;
        process.kill(server.pid, "SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

describe.each(DIALECTS)("SIGKILL during concurrent attempts (%s)", (dialect) => {
  let testDatabase: TestDatabase;
  let database: Database;
  let smtp: TestSmtp;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  const regulars = Array.from({ length: REGULARS }, (_, i) => `regular${i}@example.com`);
  const targets = Array.from({ length: RUNS }, (_, run) => Array.from({ length: TARGETS_PER_RUN }, (_, i) => `target${run}-${i}@example.com`));

  beforeAll(async () => {
    testDatabase = await createTestDatabase(dialect);
    smtp = await startTestSmtp();
    env = {
      DEADBOLT_DATABASE_URL: testDatabase.url,
      DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
      DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
      DEADBOLT_THROTTLE_PER_MINUTE: "0",
      DEADBOLT_SMTP_URL: smtp.url,
      DEADBOLT_PUBLIC_URL: PUBLIC_URL,
      DEADBOLT_LOG_LEVEL: "warn",
    };
    const runtime = await createRuntime(loadConfig(env), { log: pino({ level: "silent" }) });
    try {
      for (const email of [...regulars, ...targets.flat()]) {
        const created = await createUser(runtime.auth, { email, password: PASSWORD, role: "user" }, { by: "cli", client: { ip: null, userAgent: null } });
        if (!created.ok) throw new Error(`createUser ${email}: ${created.error}`);
      }
    } finally {
      await runtime.close();
    }
    database = openDatabase(testDatabase.url);
  }, TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await database?.close();
    await smtp?.close();
    await testDatabase?.drop();
  });

  it(`${RUNS} kills and restarts: counts within bounds, mails neither lost nor doubled, the right password works at once`, async () => {
    server = await startServerProcess({ env });
    /** Outbox rows the killed processes held: the only ones that may be re-sent (same Message-ID). */
    const heldAtKill = new Set<number>();
    const firstLoginMs: number[] = [];
    let interrupted = 0;
    let locks = 0;
    for (let run = 0; run < RUNS; run++) {
      const wrong = (emails: readonly string[]): Attempt[] =>
        emails.flatMap((email) => Array.from({ length: THRESHOLD }, () => ({ email, correct: false, outcome: "pending" as Outcome })));
      const correct = (count: number): Attempt[] =>
        Array.from({ length: count }, (_, i) => ({ email: regulars[i % REGULARS]!, correct: true, outcome: "pending" as Outcome }));
      // The first half of the accounts are attacked early (they lock, and mail), the rest late,
      // so that the kill interrupts the late ones in the middle of their attempts.
      const half = TARGETS_PER_RUN / 2;
      const early = shuffled([...wrong(targets[run]!.slice(0, half)), ...correct(CORRECT_PER_RUN / 2)]);
      const late = shuffled([...wrong(targets[run]!.slice(half)), ...correct(CORRECT_PER_RUN / 2)]);
      const attempts: Attempt[] = [...early, ...late];
      const before = Object.fromEntries(await Promise.all(regulars.map(async (email) => [email, (await eventTally(database, email))["login.succeeded"] ?? 0] as const)));
      await loadThenKill(server, attempts, early.length + Math.floor(late.length * (0.1 + 0.6 * Math.random())));
      const answers = attempts.flatMap((a) => (typeof a.outcome === "number" ? [a.outcome] : []));
      expect(answers.filter((status) => status !== 200 && status !== 401), "only 200 and 401 before the kill").toEqual([]);
      expect(attempts.filter((a) => a.correct && typeof a.outcome === "number" && a.outcome !== 200)).toEqual([]);
      const inFlight = attempts.filter((a) => a.outcome === "in_flight").length;
      interrupted += inFlight;
      for (const row of await database.db.selectFrom("outbox").select("id").where("status", "=", "pending").where("claimed_by", "is not", null).execute()) {
        heldAtKill.add(Number(row.id));
      }

      server = await startServerProcess({ env });
      for (const email of targets[run]!) {
        const mine = attempts.filter((a) => a.email === email);
        const confirmed = mine.filter((a) => a.outcome === 401).length;
        const flying = mine.filter((a) => a.outcome === "in_flight").length;
        const user = (await findUserByEmail(database.db, email))!;
        const counts = await eventTally(database, email);
        const failed = Object.entries(counts).filter(([key]) => key.startsWith("login.failed")).reduce((sum, [, n]) => sum + n, 0);
        const context = `${email}: ${JSON.stringify({ confirmed, flying, counts, passwordFailures: user.password_failures })}`;
        expect(failed, context).toBeGreaterThanOrEqual(confirmed);
        expect(failed, context).toBeLessThanOrEqual(confirmed + flying);
        // The counter and the events are written in one transaction: they agree.
        expect(counts["login.failed:wrong_password"] ?? 0, context).toBe(user.password_failures);
        expect(user.password_failures, context).toBeLessThanOrEqual(THRESHOLD);
        const locked = user.password_failures === THRESHOLD;
        if (locked) locks += 1;
        expect(counts["account.locked"] ?? 0, context).toBe(locked ? 1 : 0);
        const notices = await database.db.selectFrom("outbox").select("id").where("to_email", "=", email).where("kind", "=", "lock_notice").execute();
        expect(notices, context).toHaveLength(locked ? 1 : 0);
        // An account the kill interrupted is not locked, and its owner gets in on the first try.
        const started = performance.now();
        const status = await login(server.url, email, PASSWORD);
        if (!locked) firstLoginMs.push(performance.now() - started);
        expect(status, context).toBe(locked ? 401 : 200);
      }
      for (const email of regulars) {
        const mine = attempts.filter((a) => a.email === email);
        const succeeded = ((await eventTally(database, email))["login.succeeded"] ?? 0) - before[email]!;
        expect(succeeded, email).toBeGreaterThanOrEqual(mine.filter((a) => a.outcome === 200).length);
        expect(succeeded, email).toBeLessThanOrEqual(mine.filter((a) => a.outcome === 200 || a.outcome === "in_flight").length);
      }
    }
    expect(interrupted, "the kills interrupted attempts in flight").toBeGreaterThan(0);
    expect(firstLoginMs.length, "some accounts were interrupted before their lock").toBeGreaterThan(0);
    expect(locks, "some accounts locked (and mailed)").toBeGreaterThan(0);

    // Every queued mail goes out; a row a dead dispatcher held is reclaimed once its heartbeat
    // is stale (5 s), at the restarted server's next poll (5 s), not after the 2-minute lease.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const pending = await database.db.selectFrom("outbox").select("id").where("status", "=", "pending").execute();
      if (pending.length === 0) break;
      if (Date.now() > deadline) throw new Error(`mails still pending: ${pending.map((r) => r.id).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const rows = await database.db.selectFrom("outbox").select(["id", "dedupe_key", "status", "to_email"]).execute();
    const copies = new Map<string, number>();
    for (const mail of smtp.mails) copies.set(mail.messageId, (copies.get(mail.messageId) ?? 0) + 1);
    const byId = new Map(rows.map((row) => [messageIdOf(row.dedupe_key, PUBLIC_URL), row]));
    expect([...copies.keys()].filter((id) => !byId.has(id)), "a mail no outbox row accounts for").toEqual([]);
    for (const row of rows) {
      const received = copies.get(messageIdOf(row.dedupe_key, PUBLIC_URL)) ?? 0;
      const what = `outbox row ${row.id} (${row.status}) to ${row.to_email}`;
      if (row.status === "sent") {
        expect(received, what).toBeGreaterThanOrEqual(1);
        if (!heldAtKill.has(Number(row.id))) expect(received, what).toBe(1);
      } else {
        expect(row.status, what).toBe("suppressed");
        expect(received, what).toBe(0);
      }
    }
    const sentEvents = await database.db.selectFrom("events").select("details").where("type", "=", "notification.sent").execute();
    const sentPerRow = new Map<number, number>();
    for (const event of sentEvents) {
      const id = Number((JSON.parse(event.details) as { outboxId?: unknown }).outboxId);
      sentPerRow.set(id, (sentPerRow.get(id) ?? 0) + 1);
    }
    expect([...sentPerRow.values()].filter((n) => n !== 1), "one notification.sent per mail").toEqual([]);
    expect(sentPerRow.size).toBe(rows.filter((row) => row.status === "sent").length);
    console.info(`crash (${dialect}): ${RUNS} kills, ${interrupted} attempts in flight, ${locks} locks, ${rows.length} outbox rows, ` +
      `${smtp.mails.length} mails, first correct login after restart ${firstLoginMs.map((ms) => Math.round(ms)).join("/")} ms, ` +
      `rows held by a dead dispatcher: ${heldAtKill.size}`);
  }, TIMEOUT_MS);
});
