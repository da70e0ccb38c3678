import { setTimeout as sleep } from "node:timers/promises";
import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { LEASE_MS, smtpTransport, startDispatcher, type Dispatcher, type MailTransport } from "../../src/notify/index.ts";
import { STOP_GRACE_MS } from "../../src/notify/persist.ts";
import type { Database } from "../../src/store/index.ts";
import { DIALECTS } from "../support/databases.ts";
import { events } from "../http/helpers.ts";
import { createHarness, failLogins, outbox, PASSWORD, THRESHOLD, type Harness } from "./harness.ts";
import { startTestSmtp, type TestSmtp } from "./smtp.ts";

const USER = "dana@example.com";

/**
 * The database going away for the dispatcher only, at a moment the test picks: every query
 * then fails as the driver would fail it (pg: ECONNREFUSED; SQLite: SQLITE_IOERR).
 */
class Outage implements KyselyPlugin {
  down = false;
  /** Sees each query before it runs; may take the database down just before it. */
  before: (node: RootOperationNode) => void = () => {};
  private readonly dialect: "sqlite" | "postgres";
  constructor(dialect: "sqlite" | "postgres") {
    this.dialect = dialect;
  }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.before(args.node);
    if (this.down) {
      throw this.dialect === "postgres"
        ? Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED", errno: -111, syscall: "connect" })
        : Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    }
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function insertsInto(node: OperationNode, table: string): boolean {
  const into = (node as { kind: string; into?: { table?: { identifier?: { name?: string } } } });
  return into.kind === "InsertQueryNode" && into.into?.table?.identifier?.name === table;
}

describe.each(DIALECTS)("the database fails around a send (%s)", (dialect) => {
  let h: Harness;
  let smtp: TestSmtp;
  let outage: Outage;
  let dispatcher: Dispatcher | undefined;
  let transport: MailTransport | undefined;
  /** Real-time pauses the dispatcher asked for between retries of a write. */
  let pauses: number[];
  afterEach(async () => {
    outage.down = false;
    await dispatcher?.stop().catch(() => {});
    transport?.close();
    await h?.close();
    await smtp?.close();
    dispatcher = transport = undefined;
  });

  /** A user locked out, its lock notice queued, and a dispatcher whose database the test can take away. */
  async function setUp(options: { onPause?: (count: number) => void; smtpDelayMs?: number; leaseRenewMs?: number } = {}): Promise<void> {
    smtp = await startTestSmtp({ delayMs: options.smtpDelayMs });
    h = await createHarness(dialect, { smtp });
    await h.t.createUser(USER, PASSWORD);
    outage = new Outage(dialect);
    pauses = [];
    const real = h.t.auth.database;
    const flaky: Database = { ...real, db: real.db.withPlugin(outage) };
    const smtpOnly = smtpTransport(smtp.url);
    transport = {
      async send(mail) {
        await smtpOnly.send(mail);
        onAccepted();
      },
      close: () => smtpOnly.close(),
    };
    dispatcher = startDispatcher({
      database: flaky, transport, now: h.t.clock.now, log: h.t.auth.log, publicUrl: h.t.config.publicUrl,
      from: h.t.config.mailFrom, intervalMs: 0, leaseRenewMs: options.leaseRenewMs,
      sleep: async (ms) => {
        pauses.push(ms);
        options.onPause?.(pauses.length);
        await sleep(1);
      },
    });
    // Its first drain (at start) finds nothing; the notice is queued after it.
    expect(await dispatcher.drain()).toBe(0);
    await failLogins(h.t, USER, THRESHOLD);
  }
  let onAccepted: () => void = () => {};

  it("down between SMTP accepting and marking sent: marked at once when it is back, one mail, one event, no lease wait", async () => {
    onAccepted = () => { outage.down = true; };
    await setUp({ onPause: (count) => { if (count === 3) outage.down = false; } });
    // The injected clock never moves: nothing here waits for the lease to run out.
    expect(await dispatcher!.drain()).toBe(1);
    expect(pauses).toEqual([100, 200, 400]);
    expect(smtp.to(USER)).toHaveLength(1);
    const [row] = await outbox(h.t, USER);
    expect(row).toMatchObject({ status: "sent", attempts: 1, claimed_by: null });
    expect(await events(h.t, { type: "notification.sent" })).toHaveLength(1);
    expect(await events(h.t, { type: "notification.failed" })).toHaveLength(0);
    // Another dispatcher, even after the lease, has nothing to send again.
    h.t.clock.advance(LEASE_MS);
    expect(await h.drain()).toBe(0);
    expect(smtp.mails).toHaveLength(1);
  });

  it("a dispatcher that dies in that window: the re-send after its lease carries the same Message-ID", async () => {
    onAccepted = () => { outage.down = true; };
    await setUp({ onPause: (count) => { if (count === 1) void dispatcher!.stop(); } });
    // It stops while the database is still down: it gives up recording after its grace.
    await expect(dispatcher!.drain()).rejects.toThrow(/ECONNREFUSED|disk I\/O/);
    expect(pauses.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(STOP_GRACE_MS);
    outage.down = false;
    const [held] = await outbox(h.t, USER);
    expect(held).toMatchObject({ status: "pending", attempts: 1 });
    expect(held!.claimed_by).not.toBeNull();
    h.t.clock.advance(LEASE_MS);
    expect(await h.drain()).toBe(1);
    const mails = smtp.to(USER);
    expect(mails).toHaveLength(2);
    expect(mails[0]!.messageId).toMatch(/^<[0-9a-f]{32}@deadbolt\.test>$/);
    expect(mails[1]!.messageId).toBe(mails[0]!.messageId);
    expect((await outbox(h.t, USER))[0]).toMatchObject({ status: "sent", attempts: 2 });
    expect(await events(h.t, { type: "notification.sent" })).toHaveLength(1);
  });

  it("down after the claim, before sending: the mail is given back and sent once it is back, not after the lease", async () => {
    onAccepted = () => {};
    await setUp({ onPause: (count) => { if (count === 2) outage.down = false; } });
    let struck = false;
    outage.before = (node) => {
      if (!struck && insertsInto(node, "tokens")) {
        struck = true;
        outage.down = true;
      }
    };
    expect(await dispatcher!.drain()).toBe(1);
    expect(struck).toBe(true);
    expect(pauses).toEqual([100, 200]);
    expect(smtp.to(USER)).toHaveLength(1);
    // Giving it back does not count as a failed attempt: nothing was tried.
    expect((await outbox(h.t, USER))[0]).toMatchObject({ status: "sent", attempts: 1 });
    expect(await events(h.t, { type: "notification.failed" })).toHaveLength(0);
  });

  it("a send slower than the lease: the lease is renewed, so no other dispatcher sends it again", async () => {
    onAccepted = () => {};
    await setUp({ smtpDelayMs: 1_500, leaseRenewMs: 20 });
    const draining = dispatcher!.drain();
    while (smtp.receiving() === 0) await sleep(5);
    const [claimed] = await outbox(h.t, USER);
    // While the SMTP server holds the message, the lease's original end passes.
    h.t.clock.advance(LEASE_MS);
    let renewed = claimed!;
    while (renewed.claimed_until === claimed!.claimed_until && smtp.mails.length === 0) {
      await sleep(10);
      renewed = (await outbox(h.t, USER))[0]!;
    }
    expect(smtp.mails, "the send ended before any renewal").toHaveLength(0);
    expect(renewed.claimed_until).toBeGreaterThan(h.t.clock.now());
    expect(await h.drain()).toBe(0);
    expect(await draining).toBe(1);
    expect(smtp.to(USER)).toHaveLength(1);
  });
});
