import {
  compareAndSetLockout, deleteUserSessions, findUserById, insertEvents, lockoutStateOf,
  type LockoutWrite, type SecurityEvent, type UserRow,
} from "../store/index.ts";
import type { LockoutState } from "../lockout/index.ts";
import type { AuthContext } from "./context.ts";
import { logEvents } from "./record.ts";

/** Writes a lockout state and its events atomically; false when another attempt won the race. */
export async function applyLockoutWrite(
  ctx: AuthContext, row: UserRow, change: LockoutWrite, events: readonly SecurityEvent[],
): Promise<boolean> {
  const endsSessions = change.state.disabledReason !== null && row.disabled_reason === null;
  const written = await ctx.database.db.transaction().execute(async (trx) => {
    if (!(await compareAndSetLockout(trx, row, change))) return false;
    await insertEvents(trx, events);
    // Disabling ends every session of the user (a temporary lock does not).
    if (endsSessions) await deleteUserSessions(trx, row.id);
    return true;
  });
  if (written) logEvents(ctx, events);
  return written;
}

export interface Mutation {
  readonly state: LockoutState;
  readonly events: readonly SecurityEvent[];
  readonly extra?: LockoutWrite["extra"];
  readonly requireOtherActiveAdmin?: boolean;
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
    if (await applyLockoutWrite(ctx, row, change, mutation.events)) {
      const user = await findUserById(ctx.database.db, userId);
      if (user) return { ok: true, user };
    }
  }
}
