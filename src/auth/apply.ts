import {
  budgetOf, compareAndSetLockout, LAST_ADMIN_LOCK, deleteUserChallenges, deleteUserSessions, enqueueNotices, findUserById, insertEvents, lockoutStateOf,
  type EnqueueOptions, type EnqueueOutcome, type LockoutWrite, type Notice, type Schema, type SecurityEvent, type UserRow,
} from "../store/index.ts";
import { sql, type Kysely } from "kysely";
import type { LockoutState } from "../lockout/index.ts";
import type { AuthContext } from "./context.ts";
import { logEvents } from "./record.ts";

/**
 * Writes a lockout state, its events and the security e-mails it causes atomically (the
 * transactional outbox); false when another attempt won the race. `within` adds writes of the
 * caller's (a completed sign-in's session and device) to the same transaction.
 */
export async function applyLockoutWrite(
  ctx: AuthContext, row: UserRow, change: LockoutWrite, events: readonly SecurityEvent[],
  wanted: readonly Notice[] = [], within?: (trx: Kysely<Schema>) => Promise<void>,
): Promise<boolean> {
  const notices = ctx.notify.delivery === "none" ? [] : wanted;
  let outcomes: EnqueueOutcome[] = [];
  const endsSessions = change.state.disabledReason !== null && row.disabled_reason === null;
  const newlyLocked = change.state.lockedUntil !== null && change.state.lockedUntil !== row.locked_until;
  const written = await ctx.database.db.transaction().execute(async (trx) => {
    if (change.requireOtherActiveAdmin && ctx.database.dialect === "postgres") {
      // Under READ COMMITTED two concurrent "another admin is active" checks would both pass;
      // serialise admin disables so the later one sees the earlier one committed.
      await sql`SELECT pg_advisory_xact_lock(${LAST_ADMIN_LOCK})`.execute(trx);
    }
    if (!(await compareAndSetLockout(trx, row, change))) return false;
    await insertEvents(trx, events);
    // Disabling ends every session of the user (a temporary lock does not).
    if (endsSessions) await deleteUserSessions(trx, row.id);
    // A lock or disable ends every pending second-factor challenge, so guessing cannot resume;
    // with device trust a password lock stops untrusted clients only, and so only their challenges.
    if (endsSessions || newlyLocked) {
      const untrustedOnly = !endsSessions && ctx.deviceTrust && change.state.lockReason === "password";
      await deleteUserChallenges(trx, row.id, { untrustedOnly });
    }
    outcomes = await enqueueNotices(trx, ctx.database.dialect, notices, noticeLimits(ctx, change.now));
    await within?.(trx);
    return true;
  });
  if (written) {
    logEvents(ctx, events);
    reportQueued(ctx, notices, outcomes);
  }
  return written;
}

/** The budgets notices are queued under (SPEC "E-mail"). */
export function noticeLimits(ctx: AuthContext, now: number): EnqueueOptions {
  return { now, maxPerHour: ctx.notify.maxPerHour, resetMaxPerHour: ctx.notify.resetMaxPerHour };
}

/**
 * Queues notices in a transaction of their own, for facts already committed (a completed
 * sign-in): the mail follows the fact, it does not decide it.
 */
export async function queueNotices(ctx: AuthContext, notices: readonly Notice[]): Promise<void> {
  if (notices.length === 0 || ctx.notify.delivery === "none") return;
  const now = ctx.now();
  const outcomes = await ctx.database.db.transaction().execute((trx) => enqueueNotices(trx, ctx.database.dialect, notices, noticeLimits(ctx, now)));
  reportQueued(ctx, notices, outcomes);
}

/** After commit: wakes the local dispatcher, and says which mails the hourly cap held back. */
export function reportQueued(ctx: AuthContext, notices: readonly Notice[], outcomes: readonly EnqueueOutcome[]): void {
  notices.forEach((notice, i) => {
    if (outcomes[i] === "suppressed") {
      ctx.log.warn({ kind: notice.kind, userId: notice.userId, to: notice.to },
        `e-mail ${notice.kind} to ${notice.to} not sent: ${budgetOf(notice.kind) === "reset" ? "DEADBOLT_RESET_MAX_PER_HOUR" : "DEADBOLT_NOTIFY_MAX_PER_HOUR"} reached`);
    }
  });
  if (outcomes.includes("queued")) ctx.notify.signal.wake();
}

export interface Mutation {
  readonly state: LockoutState;
  readonly events: readonly SecurityEvent[];
  readonly extra?: LockoutWrite["extra"];
  readonly requireOtherActiveAdmin?: boolean;
  /** Security e-mails queued in the same transaction. */
  readonly notices?: readonly Notice[];
}

export type MutationResult<E extends string> = { readonly ok: true; readonly user: UserRow } | { readonly ok: false; readonly error: E };

/**
 * Read, decide, compare-and-set, retry: the loop every account change goes through, so an
 * admin action racing with login attempts never loses either write.
 */
export async function mutateAccount<E extends string>(
  ctx: AuthContext,
  userId: string,
  decide: (row: UserRow, state: LockoutState, now: number) => Promise<Mutation | E> | Mutation | E,
): Promise<MutationResult<E | "not_found">> {
  for (;;) {
    const row = await findUserById(ctx.database.db, userId);
    if (!row) return { ok: false, error: "not_found" };
    const now = ctx.now();
    const mutation = await decide(row, lockoutStateOf(row), now);
    if (typeof mutation === "string") return { ok: false, error: mutation };
    const change: LockoutWrite = {
      state: mutation.state, now, extra: mutation.extra, requireOtherActiveAdmin: mutation.requireOtherActiveAdmin,
    };
    if (await applyLockoutWrite(ctx, row, change, mutation.events, mutation.notices)) {
      const user = await findUserById(ctx.database.db, userId);
      if (user) return { ok: true, user };
    }
  }
}
