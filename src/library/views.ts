import { attemptsRemaining, settle, statusOf, type Policy } from "../lockout/index.ts";
import { lockoutStateOf, type StoredEvent, type UserRow } from "../store/index.ts";
import type { LockoutEvent, LockoutStatus } from "./types.ts";

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export function statusOfRow(row: UserRow, policy: Policy, now: number): LockoutStatus {
  const state = settle(lockoutStateOf(row), policy, now);
  return {
    account: row.email,
    status: statusOf(state, now),
    lockedUntil: date(state.lockedUntil),
    lockReason: state.lockReason,
    disabledReason: state.disabledReason,
    failedAttempts: state.password.failures,
    failedMfaAttempts: state.mfa.failures,
    attemptsRemaining: attemptsRemaining(state, "password", policy, now),
    lockoutCount: state.lockoutCount,
    lastFailedAt: date(row.last_failed_at),
    lastSucceededAt: date(row.last_login_at),
  };
}

/** An account never attempted: active, with every attempt left. */
export function neverAttempted(account: string, policy: Policy): LockoutStatus {
  return {
    account, status: "active", lockedUntil: null, lockReason: null, disabledReason: null, failedAttempts: 0,
    failedMfaAttempts: 0, attemptsRemaining: policy.threshold === 0 ? null : policy.threshold, lockoutCount: 0,
    lastFailedAt: null, lastSucceededAt: null,
  };
}

export function toLockoutEvent(event: StoredEvent): LockoutEvent {
  return {
    id: event.id, type: event.type, at: new Date(event.at), account: event.email, ip: event.ip,
    userAgent: event.userAgent, message: event.message, details: event.details,
  };
}
