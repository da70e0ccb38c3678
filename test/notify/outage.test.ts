import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { claimDueNotices } from "../../src/store/index.ts";
import { LEASE_MS, MAX_ATTEMPTS, retryDelay } from "../../src/notify/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, viewOf } from "../http/helpers.ts";
import { createHarness, failLogins, MINUTE, outbox, PASSWORD, postJson, THRESHOLD, type Harness } from "./harness.ts";
import { startTestSmtp, tokenIn } from "./smtp.ts";

const USER = "bob@example.com";

it("retry delays double per attempt with jitter in [half, full], capped at an hour", () => {
  expect(retryDelay(1, () => 0)).toBe(15_000);
  expect(retryDelay(1, () => 1)).toBe(30_000);
  expect(retryDelay(2, () => 1)).toBe(60_000);
  expect(retryDelay(4, () => 0.5)).toBe(180_000);
  expect(retryDelay(20, () => 1)).toBe(3_600_000);
});

describe.each(DIALECTS)("SMTP outage and retries (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  async function lockWhileSmtpDown(): Promise<void> {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await h.smtp.stop();
    await failLogins(h.t, USER, THRESHOLD);
    expect((await viewOf(h.t, USER)).status).toBe("locked");
    expect(await h.drain()).toBe(0);
  }

  it("a notice queued while SMTP is down is recorded as failed, then arrives exactly once", async () => {
    await lockWhileSmtpDown();
    const failed = await events(h.t, { type: "notification.failed" });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.email).toBe(USER);
    expect(failed[0]!.details).toMatchObject({ kind: "lock_notice", attempt: 1 });
    expect(String(failed[0]!.details.error)).toMatch(/ECONNREFUSED/);
    expect(failed[0]!.message).toMatch(/failed \(attempt 1 of 10\).*next attempt at/);
    const [row] = await outbox(h.t, USER);
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row!.due_at).toBeGreaterThan(h.t.clock.now());

    await h.smtp.start();
    // Not due yet: the backoff is measured on the injected clock.
    expect(await h.drain()).toBe(0);
    expect(h.smtp.mails).toHaveLength(0);
    h.t.clock.advance(MINUTE);
    expect(await h.drain()).toBe(1);
    expect(h.smtp.to(USER)).toHaveLength(1);
    expect((await events(h.t, { type: "notification.sent" })).map((e) => e.details.attempt)).toEqual([2]);
    expect((await outbox(h.t, USER))[0]).toMatchObject({ status: "sent", attempts: 2 });
    // The failed attempt's links were never delivered; the delivered ones work.
    const response = await postJson(h.t, "/api/auth/unlock", { token: tokenIn(h.smtp.to(USER)[0], "unlock") });
    expect(response.statusCode).toBe(204);
    h.t.clock.advance(60 * MINUTE);
    expect(await h.drain()).toBe(0);
    expect(h.smtp.mails).toHaveLength(1);
  });

  it("backs off exponentially and gives up after the last attempt", async () => {
    await lockWhileSmtpDown();
    let previousDelay = 0;
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      const [row] = await outbox(h.t, USER);
      const delay = row!.due_at - h.t.clock.now();
      expect(delay).toBeGreaterThanOrEqual(retryDelay(attempt - 1, () => 0));
      expect(delay).toBeLessThanOrEqual(retryDelay(attempt - 1, () => 1));
      // Equal jitter keeps the sequence growing until the cap.
      if (attempt <= 8) expect(delay).toBeGreaterThanOrEqual(previousDelay);
      previousDelay = delay;
      h.t.clock.set(row!.due_at);
      expect(await h.drain()).toBe(0);
    }
    const [row] = await outbox(h.t, USER);
    expect(row).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    const failed = await events(h.t, { type: "notification.failed" });
    expect(failed).toHaveLength(MAX_ATTEMPTS);
    expect(failed.at(-1)!.details.gaveUp).toBe(true);
    await h.smtp.start();
    h.t.clock.advance(24 * 60 * MINUTE);
    expect(await h.drain()).toBe(0);
    expect(h.smtp.mails).toHaveLength(0);
  });

  it("a stopping dispatcher finishes the mail in flight and gives back the rest of its batch at once", async () => {
    const slowSmtp = await startTestSmtp({ delayMs: 400 });
    h = await createHarness(dialect, { smtp: slowSmtp, batchSize: 3 });
    const other = await createHarness(dialect, { database: h.t.database, smtp: slowSmtp });
    try {
      for (const email of ["x1@example.com", "x2@example.com", "x3@example.com"]) {
        await h.t.createUser(email, PASSWORD);
        await failLogins(h.t, email, THRESHOLD);
      }
      const draining = h.drain();
      // Stop while the first mail of the batch is being received.
      while (slowSmtp.receiving() === 0) await sleep(5);
      await h.dispatcher.stop();
      expect(await draining).toBe(1);
      const rows = await outbox(h.t);
      expect(rows.map((r) => `${r.status}:${r.attempts}:${r.claimed_by ?? "-"}`)).toEqual(["sent:1:-", "pending:0:-", "pending:0:-"]);
      other.t.clock.set(h.t.clock.now());
      expect(await other.drain()).toBe(2);
      expect(slowSmtp.mails).toHaveLength(3);
    } finally {
      await other.close();
      await slowSmtp.close();
    }
  });

  it("a row claimed by a dispatcher that died is sent by another once the lease ends", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await h.dispatcher.stop();
    await failLogins(h.t, USER, THRESHOLD);
    const db = h.t.auth.database;
    const claimed = await claimDueNotices(db.db, db.dialect, { now: h.t.clock.now(), leaseMs: LEASE_MS, workerId: "crashed", limit: 10 });
    expect(claimed).toHaveLength(1);
    const other = await createHarness(dialect, { database: h.t.database, smtp: h.smtp });
    try {
      other.t.clock.set(h.t.clock.now() + LEASE_MS - 1);
      expect(await other.drain()).toBe(0);
      other.t.clock.set(h.t.clock.now() + LEASE_MS);
      expect(await other.drain()).toBe(1);
      expect(h.smtp.to(USER)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});
