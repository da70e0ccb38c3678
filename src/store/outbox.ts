import { sql, type Insertable, type Kysely, type Selectable } from "kysely";
import type { Dialect } from "./dialect.ts";
import { insertEvents, type SecurityEvent } from "./events.ts";
import { prepared } from "./prepared.ts";
import type { OutboxTable, Schema } from "./schema.ts";

type Db = Kysely<Schema>;

export type NoticeKind =
  | "lock_notice" | "lock_warning" | "disabled_notice" | "account_restored" | "password_reset" | "admin_alert"
  | "new_device_sign_in" | "password_changed" | "mfa_changed" | "recovery_code_used"
  | "invitation";

export const NOTICE_KINDS: readonly NoticeKind[] = [
  "lock_notice", "lock_warning", "disabled_notice", "account_restored", "password_reset", "admin_alert",
  "new_device_sign_in", "password_changed", "mfa_changed", "recovery_code_used",
  "invitation",
];

/**
 * Which hourly budget a kind counts against. Requested reset mails have their own, so that
 * nobody can use up a user's security budget (and silence the lock notice) by asking for resets.
 */
export type NoticeBudget = "security" | "reset";

export function budgetOf(kind: NoticeKind): NoticeBudget {
  return kind === "password_reset" ? "reset" : "security";
}

const RESET_KINDS: readonly NoticeKind[] = NOTICE_KINDS.filter((k) => budgetOf(k) === "reset");
const SECURITY_KINDS: readonly NoticeKind[] = NOTICE_KINDS.filter((k) => budgetOf(k) === "security");

/**
 * Security mails that tell the user what to do now (the lock notice with its unlock link, a
 * disable, an admin's alert). Each counts against the security budget, but only earlier
 * mails of these kinds can use it up for them: sign-ins from new devices, password and 2FA
 * changes (an API client that never sends its deviceToken back, say) cannot silence a lock
 * notice. They come at most once per lock episode, so they stay few under any attack.
 */
const URGENT_KINDS: readonly NoticeKind[] = ["lock_notice", "disabled_notice", "admin_alert"];

export type OutboxStatus = "pending" | "sent" | "failed" | "suppressed";

/** A security e-mail to queue; its payload holds facts for the template, never a secret. */
export interface Notice {
  readonly kind: NoticeKind;
  /** Unique per notice, e.g. `lock:<userId>:<lockedUntil>`: a second insert is a no-op. */
  readonly dedupeKey: string;
  /** The recipient user (the hourly cap counts per recipient). */
  readonly userId: string;
  readonly to: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export type OutboxRow = Selectable<OutboxTable>;

export interface EnqueueOptions {
  readonly now: number;
  /** DEADBOLT_NOTIFY_MAX_PER_HOUR: security e-mails per recipient per hour; 0 = no limit. */
  readonly maxPerHour: number;
  /** DEADBOLT_RESET_MAX_PER_HOUR: requested reset mails per recipient per hour; 0 = no limit. */
  readonly resetMaxPerHour: number;
}

const BUDGET_VARIABLE: Readonly<Record<NoticeBudget, string>> = {
  security: "DEADBOLT_NOTIFY_MAX_PER_HOUR",
  reset: "DEADBOLT_RESET_MAX_PER_HOUR",
};

/** `notification.suppressed`: the words an admin reads in the event log. */
function suppressedEvent(notice: Notice, budget: NoticeBudget, limit: number, outboxId: number, now: number): SecurityEvent {
  return {
    type: "notification.suppressed", at: now, userId: notice.userId, email: notice.to, ip: null, userAgent: null,
    message: `${notice.kind} mail to ${notice.to} not sent: ${BUDGET_VARIABLE[budget]} (${limit} an hour) reached`,
    details: { kind: notice.kind, budget, limit, variable: BUDGET_VARIABLE[budget], outboxId },
  };
}

export type EnqueueOutcome = "queued" | "suppressed" | "duplicate";

const outboxInsert = prepared((db: Db, row: Insertable<OutboxTable>) =>
  db.insertInto("outbox").values(row).onConflict((oc) => oc.column("dedupe_key").doNothing()).returning("id"));

const outboxSuppress = prepared((db: Db, id: number, reason: string) =>
  db.updateTable("outbox").set({ status: "suppressed", last_error: reason }).where("id", "=", id));

export const HOUR_MS = 3_600_000;

/**
 * Queues notices inside the caller's transaction. A notice over its budget's hourly cap for the
 * recipient is stored as `suppressed` (kept for the audit trail, never sent) and recorded as a
 * `notification.suppressed` event in the same transaction. On PostgreSQL a per-recipient
 * advisory lock, taken in a fixed order, serializes the count-and-insert of concurrent
 * transactions; on SQLite the insert takes the database's write lock before the count.
 */
export async function enqueueNotices(
  trx: Db, dialect: Dialect, notices: readonly Notice[], options: EnqueueOptions,
): Promise<EnqueueOutcome[]> {
  if (notices.length === 0) return [];
  if (dialect === "postgres") {
    const recipients = [...new Set(notices.map((n) => n.userId))].sort();
    for (const userId of recipients) {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`deadbolt-outbox:${userId}`}))`.execute(trx);
    }
  }
  const outcomes: EnqueueOutcome[] = [];
  for (const notice of notices) {
    const inserted = await outboxInsert.takeFirst(trx, {
      dedupe_key: notice.dedupeKey,
      kind: notice.kind,
      user_id: notice.userId,
      to_email: notice.to,
      payload: JSON.stringify(notice.payload),
      created_at: options.now,
      due_at: options.now,
      attempts: 0,
      last_error: null,
      status: "pending",
      claimed_until: null,
      claimed_by: null,
      sent_at: null,
    });
    if (!inserted) {
      outcomes.push("duplicate");
      continue;
    }
    const budget = budgetOf(notice.kind);
    const limit = budget === "reset" ? options.resetMaxPerHour : options.maxPerHour;
    if (limit > 0 && (await countRecent(trx, notice.userId, countedKinds(notice.kind), options.now)) > limit) {
      await outboxSuppress.execute(trx, inserted.id, `${BUDGET_VARIABLE[budget]} reached`);
      await insertEvents(trx, [suppressedEvent(notice, budget, limit, inserted.id, options.now)]);
      outcomes.push("suppressed");
      continue;
    }
    outcomes.push("queued");
  }
  return outcomes;
}

/** The kinds whose mails of the last hour count against a new mail of `kind`. */
function countedKinds(kind: NoticeKind): readonly NoticeKind[] {
  if (budgetOf(kind) === "reset") return RESET_KINDS;
  if (URGENT_KINDS.includes(kind)) return URGENT_KINDS;
  return SECURITY_KINDS;
}

/** Mails of those kinds counted by the cap: queued in the last hour and not suppressed (this one included). */
const recentCount = prepared((db: Db, userId: string, kinds: readonly NoticeKind[], since: number) =>
  db.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n"))
    .where("user_id", "=", userId)
    .where("kind", "in", [...kinds])
    .where("created_at", ">", since)
    .where("status", "<>", "suppressed"));

async function countRecent(db: Db, userId: string, kinds: readonly NoticeKind[], now: number): Promise<number> {
  return Number((await recentCount.takeFirst(db, userId, kinds, now - HOUR_MS))?.n ?? 0);
}

export interface ClaimOptions {
  readonly now: number;
  readonly leaseMs: number;
  readonly workerId: string;
  readonly limit: number;
  /** Workers known to be dead (their process stopped heartbeating): their leases count as ended. */
  readonly reclaimFrom?: readonly string[];
}

/** Workers whose names start with `prefix` holding a live lease on a pending row, other than `workerId`. */
export async function otherLeaseHolders(db: Db, options: { now: number; workerId: string; prefix: string }): Promise<string[]> {
  const rows = await db.selectFrom("outbox").select("claimed_by").distinct()
    .where("status", "=", "pending").where("claimed_until", ">", options.now)
    .where("claimed_by", "<>", options.workerId).where("claimed_by", "like", `${options.prefix}%`)
    .limit(50).execute();
  return rows.flatMap((row) => (row.claimed_by === null ? [] : [row.claimed_by]));
}

/**
 * Claims due rows for one dispatcher with a lease, counting the attempt. On PostgreSQL the
 * candidates are locked `FOR UPDATE SKIP LOCKED` in a materialized CTE, so concurrent
 * dispatchers take disjoint rows without waiting (inside `IN (…)` the planner may re-run the
 * subquery and overrun the limit); on SQLite the single UPDATE … RETURNING runs under the
 * database's write lock.
 */
export async function claimDueNotices(db: Db, dialect: Dialect, options: ClaimOptions): Promise<OutboxRow[]> {
  const { now } = options;
  const candidates = db.selectFrom("outbox").select("id")
    .where("status", "=", "pending")
    .where("due_at", "<=", now)
    .where((eb) => eb.or([
      eb("claimed_until", "is", null), eb("claimed_until", "<=", now),
      ...(options.reclaimFrom !== undefined && options.reclaimFrom.length > 0 ? [eb("claimed_by", "in", options.reclaimFrom)] : []),
    ]))
    .orderBy("due_at").orderBy("id")
    .limit(options.limit);
  const lease = { claimed_until: now + options.leaseMs, claimed_by: options.workerId };
  if (dialect === "postgres") {
    return db.with((cte) => cte("picked").materialized(), () => candidates.forUpdate().skipLocked())
      .updateTable("outbox")
      .from("picked")
      .set((eb) => ({ ...lease, attempts: eb("outbox.attempts", "+", 1) }))
      .whereRef("outbox.id", "=", "picked.id")
      .returningAll("outbox")
      .execute();
  }
  return db.updateTable("outbox")
    .set((eb) => ({ ...lease, attempts: eb("attempts", "+", 1) }))
    .where("id", "in", candidates)
    .returningAll()
    .execute();
}

export type MarkSentOutcome = "marked" | "already" | "lost";

/**
 * Marks a claimed row sent at `sentAt`. `already`: a row already sent at exactly `sentAt`, i.e.
 * an earlier try of this same call committed but its answer was lost (retried after a database
 * blip: nothing to record twice). `lost`: this worker no longer held the lease.
 */
export async function markNoticeSent(db: Db, id: number, workerId: string, sentAt: number): Promise<MarkSentOutcome> {
  const result = await db.updateTable("outbox")
    .set({ status: "sent", sent_at: sentAt, claimed_until: null, claimed_by: null, last_error: null })
    .where("id", "=", id).where("claimed_by", "=", workerId).where("status", "=", "pending")
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 1) return "marked";
  const row = await db.selectFrom("outbox").select(["status", "sent_at"]).where("id", "=", id).executeTakeFirst();
  return row?.status === "sent" && Number(row.sent_at) === sentAt ? "already" : "lost";
}

/** Extends this worker's lease on rows it still holds (a slow send, or the rest of its batch). */
export async function renewNoticeLeases(db: Db, ids: readonly number[], workerId: string, until: number): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("outbox").set({ claimed_until: until })
    .where("id", "in", ids).where("claimed_by", "=", workerId).where("status", "=", "pending")
    .execute();
}

/** Releases a claimed row after a failed send: due again at `retryAt`, or `failed` for good. */
export async function markNoticeFailed(
  db: Db, id: number, workerId: string, outcome: { error: string; retryAt: number | null },
): Promise<boolean> {
  const result = await db.updateTable("outbox")
    .set({
      status: outcome.retryAt === null ? "failed" : "pending",
      due_at: outcome.retryAt ?? undefined,
      last_error: outcome.error.slice(0, 1000),
      claimed_until: null,
      claimed_by: null,
    })
    .where("id", "=", id).where("claimed_by", "=", workerId).where("status", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives back claimed rows this worker will not send (it is stopping), for others to take now. */
export async function releaseNotices(db: Db, ids: readonly number[], workerId: string): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("outbox")
    .set((eb) => ({ claimed_until: null, claimed_by: null, attempts: eb("attempts", "-", 1) }))
    .where("id", "in", ids).where("claimed_by", "=", workerId).where("status", "=", "pending")
    .execute();
}

/** Every outbox row of one recipient address, oldest first (admin views and tests). */
export async function listNotices(db: Db, filter: { to?: string; kind?: NoticeKind } = {}): Promise<OutboxRow[]> {
  let query = db.selectFrom("outbox").selectAll();
  if (filter.to !== undefined) query = query.where("to_email", "=", filter.to);
  if (filter.kind !== undefined) query = query.where("kind", "=", filter.kind);
  return query.orderBy("id").execute();
}

export interface Recipient {
  readonly id: string;
  readonly email: string;
}

/** Active admins other than `userId`: who is alerted when an admin account is locked. */
export async function otherActiveAdmins(db: Db, userId: string): Promise<Recipient[]> {
  return db.selectFrom("users").select(["id", "email"])
    .where("role", "=", "admin").where("disabled_reason", "is", null).where("id", "<>", userId)
    .orderBy("email").execute();
}
