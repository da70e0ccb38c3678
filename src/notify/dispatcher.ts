import { createHash, randomBytes as cryptoRandomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "../auth/context.ts";
import { logEvents } from "../auth/record.ts";
import {
  claimDueNotices, deleteTokens, insertEvents, insertTokens, isDatabaseUnavailable, markNoticeFailed, markNoticeSent, otherLeaseHolders,
  releaseNotices, voidUnusedTokens, type Database, type NoticeKind, type OutboxRow, type SecurityEvent,
} from "../store/index.ts";
import { issueLinks } from "./links.ts";
import { holdLeases, persist, type LeaseHold } from "./persist.ts";
import { renderMail, utc } from "./render.ts";
import type { OutboxSignal } from "./signal.ts";
import type { MailTransport } from "./transport.ts";

/** Attempts before a mail is given up (`failed`); with the backoff below, about 4 hours. */
export const MAX_ATTEMPTS = 10;
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 3_600_000;
/**
 * Longer than the SMTP timeouts together; and renewed every LEASE_RENEW_MS while a row is held,
 * so a live dispatcher never loses its lease mid-send, however slow the exchange or long its batch.
 */
export const LEASE_MS = 120_000;
export const LEASE_RENEW_MS = 30_000;
const BATCH_SIZE = 10;

/**
 * The process the dispatcher runs in, as a heartbeating owner (src/auth/instance.ts): the rows
 * it claims carry its id, so that another process reclaims them within seconds of its death
 * instead of after the lease.
 */
export interface DispatcherOwner {
  readonly id: string;
  /** The owners among `owners` that stopped heartbeating. */
  deadAmong(owners: readonly string[]): Promise<string[]>;
  /** Makes this process's heartbeat fresh; false when it cannot (then it must not start a send). */
  refresh(): Promise<boolean>;
}

/** Claims by heartbeating owners are named so; other workers' claims end only with their lease. */
const OWNER_PREFIX = "instance:";

export interface DispatcherOptions {
  readonly database: Database;
  readonly transport: MailTransport;
  readonly now: () => number;
  readonly log: Logger;
  /** DEADBOLT_PUBLIC_URL, the base of links. */
  readonly publicUrl: string;
  /** DEADBOLT_MAIL_FROM. */
  readonly from: string;
  /** DEADBOLT_APP_NAME, the name mails sign with; default "deadbolt". */
  readonly appName?: string;
  /** Poll for mails queued by other processes and for retries; 0 = no timer (tests drain). */
  readonly intervalMs: number;
  /** Sends at once when this process commits a notice. */
  readonly signal?: OutboxSignal;
  readonly randomBytes?: (size: number) => Buffer;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
  readonly batchSize?: number;
  /** Real-time pause between retries of a database write after an error (tests shorten it). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Real time between lease renewals; default LEASE_RENEW_MS. */
  readonly leaseRenewMs?: number;
  /** Without one, a dead dispatcher's rows wait for their lease to end. */
  readonly owner?: DispatcherOwner;
}

export interface Dispatcher {
  /** Starts a drain in the background unless one is already waiting to start. */
  kick(): void;
  /** Sends every due mail now; resolves with how many were sent. Runs after any drain in flight. */
  drain(): Promise<number>;
  /** Stops the timer and waits for the drain in flight. */
  stop(): Promise<void>;
}

const KIND_WORDS: Record<NoticeKind, string> = {
  lock_notice: "lock notice",
  lock_warning: "lock warning",
  disabled_notice: "disabled notice",
  account_restored: "account restored notice",
  password_reset: "password reset",
  admin_alert: "admin alert",
  new_device_sign_in: "new device sign-in notice",
  password_changed: "password changed notice",
  mfa_changed: "two-step verification notice",
  recovery_code_used: "recovery code notice",
  invitation: "invitation",
};

/** Delay before attempt `attempts + 1`: exponential, capped, with "equal jitter". */
export function retryDelay(attempts: number, random: () => number): number {
  const full = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

/** Stable per outbox row (its unique dedupe key), so a re-send after a crash carries the same id. */
export function messageIdOf(dedupeKey: string, publicUrl: string): string {
  const digest = createHash("sha256").update(dedupeKey).digest("hex").slice(0, 32);
  return `<${digest}@${new URL(publicUrl).hostname || "localhost"}>`;
}

function parsePayload(row: OutboxRow): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(row.payload);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").slice(0, 500);
}

/**
 * Sends the outbox: claims due rows under a lease (several processes may dispatch one
 * database), creates the rows' tokens, renders, sends, and records `notification.sent`, or
 * reschedules with backoff and records `notification.failed`. Time comes from `now`, so
 * tests move a clock and call `drain()` instead of sleeping.
 *
 * @example const dispatcher = startDispatcher({ database, transport, now: Date.now, log, publicUrl, from, intervalMs: 5000 });
 */
export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const { database, transport, now, log, publicUrl } = options;
  const db = database.db;
  const random = options.random ?? Math.random;
  const randomBytes = options.randomBytes ?? cryptoRandomBytes;
  const owner = options.owner;
  const workerId = owner !== undefined ? `${OWNER_PREFIX}${owner.id}` : `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
  let chain: Promise<unknown> = Promise.resolve();
  let kickWaiting = false;
  let stopped = false;

  function record(events: readonly SecurityEvent[]): void {
    logEvents({ log }, events);
  }

  function event(row: OutboxRow, type: "notification.sent" | "notification.failed", message: string, details: Record<string, unknown>): SecurityEvent {
    return {
      type, at: now(), userId: row.user_id, email: row.to_email, ip: null, userAgent: null, message,
      details: { kind: row.kind, outboxId: Number(row.id), attempt: row.attempts, ...details },
    };
  }

  const persistOptions = { log, sleep: options.sleep, stopping: () => stopped };

  async function fail(row: OutboxRow, error: unknown): Promise<void> {
    const reason = errorText(error);
    const givesUp = row.attempts >= MAX_ATTEMPTS;
    const retryAt = givesUp ? null : now() + retryDelay(row.attempts, random);
    const what = `security e-mail (${KIND_WORDS[row.kind as NoticeKind] ?? row.kind}) to ${row.to_email} failed ` +
      `(attempt ${row.attempts} of ${MAX_ATTEMPTS}): ${reason}; ` +
      (retryAt === null ? "giving up" : `next attempt at ${utc(retryAt)}`);
    const failed = event(row, "notification.failed", what, retryAt === null ? { error: reason, gaveUp: true } : { error: reason, retryAt });
    const recorded = await persist("a mail failed", () => db.transaction().execute(async (trx) => {
      if (!(await markNoticeFailed(trx, Number(row.id), workerId, { error: reason, retryAt }))) return false;
      await insertEvents(trx, [failed]);
      return true;
    }), persistOptions);
    if (recorded) record([failed]);
  }

  async function recordSent(row: OutboxRow, issued: ReturnType<typeof issueLinks>, sentAt: number): Promise<void> {
    // Without SMTP nothing was sent: say where the mail went, so nobody waits for it.
    const sent = event(row, "notification.sent", transport.logsOnly === true
      ? `security e-mail (${KIND_WORDS[row.kind as NoticeKind] ?? row.kind}) to ${row.to_email} written to the server log (DEADBOLT_SMTP_URL is not set)`
      : `security e-mail (${KIND_WORDS[row.kind as NoticeKind] ?? row.kind}) sent to ${row.to_email}`,
    transport.logsOnly === true ? { delivery: "log" } : {});
    const newReset = issued.tokens.filter((t) => t.kind === "reset").map((t) => t.tokenHash);
    const newInvite = issued.tokens.filter((t) => t.kind === "invite").map((t) => t.tokenHash);
    const outcome = await persist("a mail was sent", () => db.transaction().execute(async (trx) => {
      const marked = await markNoticeSent(trx, Number(row.id), workerId, sentAt);
      // An earlier try committed and only its answer was lost: everything below is in already.
      if (marked === "already") return marked;
      if (marked === "lost") log.warn({ outboxId: row.id }, "an e-mail was sent after this dispatcher's lease ended; it may arrive twice");
      // Only the newest reset link works: older unused ones are void once this one went out.
      if (newReset.length > 0 && row.user_id !== null) await voidUnusedTokens(trx, row.user_id, "reset", { except: newReset });
      // Likewise a new invitation replaces the link of an earlier one.
      if (newInvite.length > 0 && row.user_id !== null) await voidUnusedTokens(trx, row.user_id, "invite", { except: newInvite });
      await insertEvents(trx, [sent]);
      return marked;
    }), persistOptions);
    if (outcome !== "already") record([sent]);
  }

  async function deliver(row: OutboxRow): Promise<boolean> {
    const payload = parsePayload(row);
    let issued: ReturnType<typeof issueLinks>;
    let rendered: ReturnType<typeof renderMail>;
    try {
      issued = issueLinks(row, payload, { now: now(), publicUrl, randomBytes });
      rendered = renderMail({
        kind: row.kind as NoticeKind, to: row.to_email, payload, publicUrl, links: issued.links, appName: options.appName ?? "deadbolt",
      });
      await insertTokens(db, issued.tokens);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) {
        await fail(row, error);
        return false;
      }
      // Nothing left: give the row back as soon as the database answers, instead of leaving it
      // claimed (and its user waiting) for the whole lease.
      log.warn({ err: error, outboxId: row.id }, "e-mail dispatcher: database unavailable before sending; giving the mail back");
      await persist("a mail was given back", () => releaseNotices(db, [Number(row.id)], workerId), persistOptions);
      return false;
    }
    // A process that cannot prove it is alive may be presumed dead and its row re-sent by another.
    if (owner !== undefined && !(await owner.refresh())) {
      await persist("unsent links were voided", () => deleteTokens(db, issued.tokens.map((t) => t.tokenHash)), persistOptions);
      await persist("a mail was given back", () => releaseNotices(db, [Number(row.id)], workerId), persistOptions);
      return false;
    }
    try {
      await transport.send({ ...rendered, from: options.from, to: row.to_email, messageId: messageIdOf(row.dedupe_key, publicUrl) });
    } catch (error) {
      // The links never reached anyone: their tokens go with the failed attempt.
      await persist("unsent links were voided", () => deleteTokens(db, issued.tokens.map((t) => t.tokenHash)), persistOptions);
      await fail(row, error);
      return false;
    }
    // Accepted by the SMTP server: record it before anything else, retrying through a database
    // blip, so the lease cannot run out on a mail that was delivered.
    await recordSent(row, issued, now());
    return true;
  }

  /** Heartbeating owners holding leases that have stopped heartbeating: their rows are due now. */
  async function deadHolders(): Promise<string[]> {
    if (owner === undefined) return [];
    const holders = await otherLeaseHolders(db, { now: now(), workerId, prefix: OWNER_PREFIX });
    if (holders.length === 0) return [];
    const dead = await owner.deadAmong(holders.map((holder) => holder.slice(OWNER_PREFIX.length)));
    return dead.map((id) => `${OWNER_PREFIX}${id}`);
  }

  async function drainNow(): Promise<number> {
    let sent = 0;
    for (;;) {
      if (stopped) return sent;
      const rows = await claimDueNotices(db, database.dialect, {
        now: now(), leaseMs: LEASE_MS, workerId, limit: options.batchSize ?? BATCH_SIZE, reclaimFrom: await deadHolders(),
      });
      if (rows.length === 0) return sent;
      const hold: LeaseHold = holdLeases(database, rows.map((r) => Number(r.id)), {
        workerId, leaseMs: LEASE_MS, everyMs: options.leaseRenewMs ?? LEASE_RENEW_MS, now, log,
      });
      try {
        for (const [i, row] of rows.entries()) {
          if (stopped) {
            // Shutting down: what this worker claimed but did not try goes back to the others now.
            await releaseNotices(db, rows.slice(i).map((r) => Number(r.id)), workerId);
            return sent;
          }
          if (await deliver(row)) sent += 1;
          hold.settle(Number(row.id));
        }
      } finally {
        hold.stop();
      }
    }
  }

  function drain(): Promise<number> {
    const run = chain.then(drainNow);
    chain = run.catch(() => undefined);
    return run;
  }

  function kick(): void {
    if (stopped || kickWaiting) return;
    kickWaiting = true;
    const run = chain.then(() => {
      kickWaiting = false;
      return drainNow();
    });
    chain = run.catch((error: unknown) => {
      log.error({ err: error }, `e-mail dispatcher: ${errorText(error)}; will retry`);
    });
  }

  const timer = options.intervalMs > 0 ? setInterval(kick, options.intervalMs) : null;
  timer?.unref();
  const unsubscribe = options.signal?.onWake(kick);
  kick();

  return {
    kick,
    drain,
    async stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      unsubscribe?.();
      await chain;
    },
  };
}
