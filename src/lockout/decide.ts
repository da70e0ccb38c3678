import { LATEST_LOCK_MS, lockDuration, thresholdFor } from "./policy.ts";
import type {
  AccountStatus, Decision, DisabledReason, Effect, Factor, FactorCounter, Lane, LockoutState, Policy,
  Reservation, Slot, SlotClaim,
} from "./types.ts";

export const FRESH: FactorCounter = Object.freeze({ failures: 0, lastFailedAt: null, slots: [] });

export function liveSlots(counter: FactorCounter, now: number): readonly Slot[] {
  return counter.slots.filter((slot) => slot.expiresAt > now);
}

export function settleCounter(counter: FactorCounter, policy: Policy, now: number): FactorCounter {
  const slots = liveSlots(counter, now);
  const windowOver = counter.lastFailedAt !== null && now - counter.lastFailedAt >= policy.windowMs;
  if (windowOver) return { failures: 0, lastFailedAt: null, slots };
  return slots.length === counter.slots.length ? counter : { ...counter, slots };
}

/**
 * The state as it is at `now`: an expired lock is gone and leaves fresh counters, counters
 * older than the window are reset, lost slots are dropped. Reads use this instead of writing.
 */
export function settle(state: LockoutState, policy: Policy, now: number): LockoutState {
  if (state.lockedUntil !== null && state.lockedUntil <= now) {
    return {
      ...state,
      lockedUntil: null,
      lockReason: null,
      password: { ...FRESH, slots: liveSlots(state.password, now) },
      mfa: { ...FRESH, slots: liveSlots(state.mfa, now) },
    };
  }
  if (state.lockedUntil !== null) return state;
  const password = settleCounter(state.password, policy, now);
  const mfa = settleCounter(state.mfa, policy, now);
  if (password === state.password && mfa === state.mfa) return state;
  return { ...state, password, mfa };
}

export function statusOf(state: LockoutState, now: number): AccountStatus {
  if (state.disabledReason !== null) return "disabled";
  if (state.lockedUntil !== null && state.lockedUntil > now) return "locked";
  return "active";
}

/** Drops the slots of owners known to be dead: their verification will never be recorded. */
export function reclaim(counter: FactorCounter, deadOwners: readonly string[]): FactorCounter {
  if (deadOwners.length === 0) return counter;
  const slots = counter.slots.filter((slot) => slot.owner === undefined || !deadOwners.includes(slot.owner));
  return slots.length === counter.slots.length ? counter : { ...counter, slots };
}

/** The distinct owners of the slots in flight for `factor` (to ask the shell which are alive). */
export function slotOwners(state: LockoutState, factor: Factor): string[] {
  const owners = new Set<string>();
  for (const slot of state[factor].slots) if (slot.owner !== undefined) owners.add(slot.owner);
  return [...owners];
}

/**
 * The account's status as an attempt in `lane` meets it: a disable and a second-factor lock
 * stop every client, a password lock stops only untrusted ones (SPEC "Trusted devices" 3–4).
 */
export function statusFor(state: LockoutState, now: number, lane: Lane): AccountStatus {
  const status = statusOf(state, now);
  if (status === "locked" && lane === "device" && state.lockReason === "password") return "active";
  return status;
}

/**
 * Asks for the right to verify one secret. The store applies a `reserved` state with a
 * conditional update, so that across processes at most `threshold` verifications can be
 * in flight or failed before the account locks. Slots of `claim.deadOwners` no longer count.
 */
export function reserve(
  state: LockoutState, factor: Factor, policy: Policy, now: number, slotId: string,
  claim?: SlotClaim,
): Reservation {
  const current = settle(state, policy, now);
  const status = statusFor(current, now, claim?.lane ?? "account");
  if (status !== "active") return { kind: "refused", reason: status };
  const threshold = thresholdFor(policy, current.role, factor);
  if (threshold === 0) return { kind: "unlimited" };
  const counter = reclaim(current[factor], claim?.deadOwners ?? []);
  const used = counter.failures + counter.slots.length;
  if (used >= threshold) return { kind: "wait" };
  const slot: Slot = claim === undefined
    ? { id: slotId, expiresAt: now + policy.slotTtlMs }
    : { id: slotId, expiresAt: now + policy.slotTtlMs, owner: claim.owner };
  return {
    kind: "reserved",
    state: { ...current, [factor]: { ...counter, slots: [...counter.slots, slot] } },
    attemptsRemaining: threshold - counter.failures - 1,
  };
}

function release(counter: FactorCounter, slotId: string | null): FactorCounter {
  if (slotId === null) return counter;
  return { ...counter, slots: counter.slots.filter((slot) => slot.id !== slotId) };
}

export interface FailureContext {
  /** The slot from `reserve`, or null when the factor is unlimited. */
  readonly slotId: string | null;
  /** True when this account is an admin and no other admin is active. */
  readonly isLastActiveAdmin: boolean;
  /** `device`: the second factor of a trusted device's sign-in, which a password lock does not stop. */
  readonly lane?: Lane;
}

function act(
  state: LockoutState, factor: Factor, policy: Policy, now: number, context: FailureContext,
): Decision {
  const failedAttempts = state[factor].failures;
  const lockoutCount = state.lockoutCount + 1;
  const policyReason: DisabledReason | null =
    factor === "mfa" && policy.mfaAction === "disable" ? "mfa_failures"
    : policy.disableAfter > 0 && lockoutCount >= policy.disableAfter ? "repeated_lockouts"
    : null;
  if (policyReason !== null && !context.isLastActiveAdmin) {
    const effect: Effect = { type: "disabled", factor, reason: policyReason, failedAttempts, lockoutCount };
    return { state: { ...state, disabledReason: policyReason, lockoutCount }, effects: [effect] };
  }
  // A second-factor lock over a password lock (trusted lane) never shortens it; clamped so
  // that no policy and no clock can make a lock that a date cannot hold.
  const lockedUntil = Math.min(Math.max(now + lockDuration(policy, lockoutCount), state.lockedUntil ?? 0), LATEST_LOCK_MS);
  const effect: Effect = {
    type: "locked", factor, failedAttempts, lockedUntil, lockoutCount,
    insteadOfDisable: policyReason !== null,
  };
  return { state: { ...state, lockedUntil, lockReason: factor, lockoutCount }, effects: [effect] };
}

/** Records a failed verification of `factor` and decides whether it locks or disables. */
export function onFailure(
  state: LockoutState, factor: Factor, policy: Policy, now: number, context: FailureContext,
): Decision {
  const current = settle(state, policy, now);
  const counter = release(current[factor], context.slotId);
  if (statusFor(current, now, context.lane ?? "account") !== "active") {
    // Locked or disabled by a concurrent attempt meanwhile: nothing more to decide.
    return { state: { ...current, [factor]: counter }, effects: [] };
  }
  const failures = counter.failures + 1;
  const next: LockoutState = { ...current, [factor]: { ...counter, failures, lastFailedAt: now } };
  const threshold = thresholdFor(policy, current.role, factor);
  if (threshold === 0 || failures < threshold) {
    const effects: Effect[] = threshold > 0 && failures === threshold - 1
      ? [{ type: "near_threshold", factor, attemptsRemaining: 1 }]
      : [];
    return { state: next, effects };
  }
  return act(next, factor, policy, now, context);
}

/** A correct secret for one factor: gives the slot back and nothing else. */
export function onVerified(state: LockoutState, factor: Factor, policy: Policy, now: number, slotId: string | null): LockoutState {
  const current = settle(state, policy, now);
  return { ...current, [factor]: release(current[factor], slotId) };
}

/** A fully successful login: both counters and the consecutive-lock count start over. */
export function onLoginCompleted(state: LockoutState, policy: Policy, now: number): LockoutState {
  const current = settle(state, policy, now);
  return {
    ...current,
    lockoutCount: 0,
    password: { ...FRESH, slots: current.password.slots },
    mfa: { ...FRESH, slots: current.mfa.slots },
  };
}

/** Any unlock (admin, token, password reset, emergency, CLI): a fresh set of attempts. */
export function unlock(state: LockoutState, policy: Policy, now: number): LockoutState {
  const current = settle(state, policy, now);
  return {
    ...current,
    lockedUntil: null,
    lockReason: null,
    lockoutCount: 0,
    password: { ...FRESH, slots: current.password.slots },
    mfa: { ...FRESH, slots: current.mfa.slots },
  };
}

export function disable(state: LockoutState, reason: DisabledReason): LockoutState {
  return { ...state, disabledReason: reason };
}

/** Enabling restores a usable account: no disable, no lock, fresh counters. */
export function enable(state: LockoutState, policy: Policy, now: number): LockoutState {
  return { ...unlock(state, policy, now), disabledReason: null };
}

/** Attempts left before `factor` acts, or null when it never does. */
export function attemptsRemaining(state: LockoutState, factor: Factor, policy: Policy, now: number): number | null {
  const current = settle(state, policy, now);
  const threshold = thresholdFor(policy, current.role, factor);
  if (threshold === 0) return null;
  if (statusOf(current, now) !== "active") return 0;
  return Math.max(0, threshold - current[factor].failures);
}
