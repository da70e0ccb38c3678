import { hostname } from "node:os";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createInstance, type Instance } from "../../src/auth/instance.ts";
import { LEASE_MS, startDispatcher, type Dispatcher } from "../../src/notify/index.ts";
import { claimDueNotices, heartbeat } from "../../src/store/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { createHarness, failLogins, outbox, PASSWORD, THRESHOLD, type Harness } from "./harness.ts";

const USER = "erin@example.com";

// Issue 8, defect 5: a mail claimed by a process that then died waited for the whole lease
// (2 minutes). Claims now carry the claiming process's instance id, whose heartbeat tells
// whether it lives, as the verification slots' owners do.
describe.each(DIALECTS)("outbox rows of a dead process (%s)", (dialect) => {
  let h: Harness;
  let dispatcher: Dispatcher | undefined;
  let instance: Instance | undefined;
  afterEach(async () => {
    await dispatcher?.stop();
    await instance?.stop();
    await h?.close();
    dispatcher = instance = undefined;
  });

  async function claimedBy(owner: string, { stale }: { stale: boolean }): Promise<void> {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await h.dispatcher.stop();
    await failLogins(h.t, USER, THRESHOLD);
    const db = h.t.auth.database;
    await heartbeat(db.db, db.dialect, { id: owner, host: hostname(), pid: 1, startedAt: h.t.clock.now() });
    // Silent for a minute by the database's own clock: dead.
    if (stale) await sql`UPDATE instances SET heartbeat_at = heartbeat_at - 60000 WHERE id = ${owner}`.execute(db.db);
    const claimed = await claimDueNotices(db.db, db.dialect, { now: h.t.clock.now(), leaseMs: LEASE_MS, workerId: `instance:${owner}`, limit: 10 });
    expect(claimed).toHaveLength(1);
    instance = createInstance(db, { id: "live-dispatcher", log: h.t.auth.log, now: h.t.clock.now });
    await instance.start();
    dispatcher = startDispatcher({
      database: db, transport: h.transport, now: h.t.clock.now, log: h.t.auth.log, publicUrl: h.t.config.publicUrl,
      from: h.t.config.mailFrom, intervalMs: 0, owner: instance,
    });
  }

  it("a row claimed by a process that stopped heartbeating is sent at once, not after the lease", async () => {
    await claimedBy("crashed", { stale: true });
    // The injected clock stays put: the lease has most of its two minutes left. (The dispatcher
    // drains once as it starts; this waits for that.)
    await dispatcher!.drain();
    expect(h.smtp.to(USER)).toHaveLength(1);
    expect((await outbox(h.t, USER))[0]).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("a row claimed by a live process stays its own until its lease ends", async () => {
    await claimedBy("alive", { stale: false });
    await dispatcher!.drain();
    expect(h.smtp.mails).toHaveLength(0);
    expect((await outbox(h.t, USER))[0]).toMatchObject({ status: "pending", claimed_by: "instance:alive" });
  });
});
