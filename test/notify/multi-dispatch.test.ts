import { afterEach, describe, expect, it } from "vitest";
import { claimDueNotices, enqueueNotices, type Database } from "../../src/store/index.ts";
import { postLogin } from "../support/app.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";
import { events } from "../http/helpers.ts";
import { createHarness, failLogins, outbox, PASSWORD, THRESHOLD, type Harness } from "./harness.ts";
import { startTestSmtp, type TestSmtp } from "./smtp.ts";

const USERS = 12;

describe.each(DIALECTS)("several dispatchers on one outbox (%s)", (dialect) => {
  let database: TestDatabase;
  let smtp: TestSmtp;
  let a: Harness;
  let b: Harness;

  afterEach(async () => {
    await a?.close();
    await b?.close();
    await smtp?.close();
    await database?.drop();
  });

  async function twoProcesses(): Promise<void> {
    database = await createTestDatabase(dialect);
    // Each message takes a moment, so the two dispatchers' claims really overlap.
    smtp = await startTestSmtp({ delayMs: 15 });
    a = await createHarness(dialect, { database, smtp, batchSize: 2 });
    b = await createHarness(dialect, { database, smtp, batchSize: 2 });
    await a.dispatcher.drain();
    await b.dispatcher.drain();
  }

  it("two dispatchers draining concurrently send every mail exactly once", async () => {
    await twoProcesses();
    const emails = Array.from({ length: USERS }, (_, i) => `user${i}@example.com`);
    for (const email of emails) await a.t.createUser(email, PASSWORD);
    // Half the lockouts happen on each "process".
    for (const [i, email] of emails.entries()) await failLogins(i % 2 === 0 ? a.t : b.t, email, THRESHOLD);

    const [sentByA, sentByB] = await Promise.all([a.drain(), b.drain()]);
    expect(sentByA + sentByB).toBe(USERS);
    expect(sentByA).toBeGreaterThan(0);
    expect(sentByB).toBeGreaterThan(0);
    expect(smtp.mails).toHaveLength(USERS);
    for (const email of emails) expect(smtp.to(email), email).toHaveLength(1);
    expect(new Set(smtp.mails.map((m) => m.messageId)).size).toBe(USERS);
    expect((await outbox(a.t)).every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
    expect(await events(a.t, { type: "notification.sent" })).toHaveLength(USERS);
    expect(await Promise.all([a.drain(), b.drain()])).toEqual([0, 0]);
  });

  it("a lock raced from both processes queues one notice", async () => {
    await twoProcesses();
    const email = "target@example.com";
    await a.t.createUser(email, PASSWORD);
    const attempts = Array.from({ length: 10 }, (_, i) => postLogin((i % 2 === 0 ? a : b).t.app, email, "wrong-password"));
    expect((await Promise.all(attempts)).map((r) => r.statusCode)).toEqual(Array(10).fill(401));
    await Promise.all([a.drain(), b.drain()]);
    expect(smtp.to(email)).toHaveLength(1);
    expect((await outbox(a.t, email)).map((row) => row.kind)).toEqual(["lock_notice"]);
  });

  it("concurrent claims take disjoint rows and never more than the batch", async () => {
    await twoProcesses();
    const user = await a.t.createUser("many@example.com", PASSWORD);
    const now = a.t.clock.now();
    const notices = Array.from({ length: 20 }, (_, i) => ({
      kind: "password_reset" as const, dedupeKey: `test:${i}`, userId: user.id, to: user.email, payload: {},
    }));
    const db = a.t.auth.database;
    const enqueue = () => db.db.transaction().execute((trx) => enqueueNotices(trx, db.dialect, notices, { now, maxPerHour: 0, resetMaxPerHour: 0 }));
    expect(await enqueue()).toEqual(Array(20).fill("queued"));
    // The dedupe key makes a second enqueue of the same notices a no-op.
    expect(await enqueue()).toEqual(Array(20).fill("duplicate"));
    const claim = (database: Database, worker: string) =>
      claimDueNotices(database.db, database.dialect, { now, leaseMs: 60_000, workerId: worker, limit: 3 });
    const batches = await Promise.all([
      claim(a.t.auth.database, "a1"), claim(b.t.auth.database, "b1"), claim(a.t.auth.database, "a2"), claim(b.t.auth.database, "b2"),
      claim(a.t.auth.database, "a3"), claim(b.t.auth.database, "b3"), claim(a.t.auth.database, "a4"), claim(b.t.auth.database, "b4"),
    ]);
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(3);
    const ids = batches.flat().map((row) => Number(row.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(20);
  });
});
