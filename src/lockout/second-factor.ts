import { settle } from "./decide.ts";
import type { LockoutState, Policy } from "./types.ts";

/**
 * The state after an admin removed the user's second factor (lost phone and recovery codes):
 * its failure counter starts again, and a lock caused by wrong codes ends with it, since the
 * factor that was failed no longer exists. A password lock and a disable stay as they are.
 */
export function forgetSecondFactor(state: LockoutState, policy: Policy, now: number): LockoutState {
  const current = settle(state, policy, now);
  const mfaLocked = current.lockReason === "mfa" && current.lockedUntil !== null;
  return {
    ...current,
    lockedUntil: mfaLocked ? null : current.lockedUntil,
    lockReason: mfaLocked ? null : current.lockReason,
    mfa: { failures: 0, lastFailedAt: null, slots: current.mfa.slots },
  };
}
