import { compareAndSetLockout, findUserById, lockoutStateOf, type UserRow } from "../store/index.ts";
import { onVerified, type Factor } from "../lockout/index.ts";
import type { AuthContext } from "./context.ts";

/** What the guard holds between reserving and recording: the row as written, and its slot. */
export interface Reserved {
  readonly row: UserRow;
  readonly slotId: string | null;
}

/** Gives a slot back without recording anything; a no-op when it is already gone. */
async function releaseSlot(ctx: AuthContext, userId: string, slotId: string): Promise<void> {
  for (;;) {
    const row = await findUserById(ctx.database.db, userId);
    if (!row) return;
    const now = ctx.now();
    const current = lockoutStateOf(row);
    const held = current.password.slots.some((s) => s.id === slotId) || current.mfa.slots.some((s) => s.id === slotId);
    if (!held) return;
    const released = onVerified(current, "password", ctx.policy, now, slotId);
    const state = onVerified(released, "mfa", ctx.policy, now, slotId);
    if (await compareAndSetLockout(ctx.database.db, row, { state, now })) return;
  }
}

/** Releases now, or, when the database cannot be reached, as soon as it can again. */
export async function releaseOnError(ctx: AuthContext, userId: string, slotId: string | null): Promise<void> {
  if (slotId === null) return;
  try {
    await releaseSlot(ctx, userId, slotId);
  } catch {
    ctx.instance.retryLater(() => releaseSlot(ctx, userId, slotId));
  }
}

/** Thrown when this process cannot prove it is alive: a slot it reserves could be reclaimed. */
export class InstanceUnavailableError extends Error {
  readonly code = "database_unavailable";
}

/**
 * After a heartbeat lapse, takes the slot back under a fresh heartbeat: the version bump makes
 * any process that judged us dead before the heartbeat fail its compare-and-set and look again.
 * Undefined when the slot was already reclaimed.
 */
export async function reconfirm(ctx: AuthContext, request: { readonly userId: string; readonly factor: Factor }, slotId: string): Promise<Reserved | undefined> {
  for (;;) {
    const row = await findUserById(ctx.database.db, request.userId);
    if (!row) return undefined;
    const state = lockoutStateOf(row);
    if (!state[request.factor].slots.some((slot) => slot.id === slotId)) return undefined;
    const written = await compareAndSetLockout(ctx.database.db, row, { state, now: ctx.now() });
    if (written) return { row: written, slotId };
  }
}

