import { attemptsRemaining, settle, statusOf, type AccountStatus, type Policy } from "../lockout/index.ts";
import { lockoutStateOf, type StoredEvent, type UserRow } from "../store/index.ts";

/** An account as {@link Lockout.status} reports it. */
export interface LockoutStatus {
  readonly account: string;
  readonly status: AccountStatus;
  /** Set while `status` is `locked`. */
  readonly lockedUntil: Date | null;
  readonly lockReason: "password" | "mfa" | null;
  readonly disabledReason: "admin" | "mfa_failures" | "repeated_lockouts" | null;
  readonly failedAttempts: number;
  readonly failedMfaAttempts: number;
  /** Failed attempts left before the account locks; null when it never locks. */
  readonly attemptsRemaining: number | null;
  /** Consecutive locks since the last success or unlock (each lasts `backoff` times longer). */
  readonly lockoutCount: number;
  readonly lastFailedAt: Date | null;
  readonly lastSucceededAt: Date | null;
}

export interface LockoutEventQuery {
  readonly account?: string;
  /** For example `login.failed`, `account.locked`, `account.unlocked`. */
  readonly type?: string;
  readonly since?: Date;
  /** Default 100. */
  readonly limit?: number;
}

/** A security event, with the same words as the service's event log. */
export interface LockoutEvent {
  readonly id: number;
  readonly type: string;
  readonly at: Date;
  readonly account: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

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
