import { settle, statusOf, type AccountStatus, type Policy } from "../lockout/index.ts";
import { lockoutStateOf, type UserRow } from "../store/index.ts";
import { isoTime } from "../time.ts";

/** The user as the API, the console and the CLI show it (SPEC's "U"). */
export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly role: "user" | "admin";
  readonly status: AccountStatus;
  readonly lockedUntil: string | null;
  readonly lockReason: "password" | "mfa" | null;
  readonly disabledReason: "admin" | "mfa_failures" | "repeated_lockouts" | null;
  readonly failedPasswordAttempts: number;
  readonly failedMfaAttempts: number;
  readonly lockoutCount: number;
  readonly lastFailedAt: string | null;
  readonly lastFailedIp: string | null;
  readonly lastLoginAt: string | null;
  readonly mfaEnabled: boolean;
  readonly createdAt: string;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/** Reads never write: an expired lock shows as active with fresh counters, straight from the row. */
export function toUserView(row: UserRow, policy: Policy, now: number): UserView {
  const state = settle(lockoutStateOf(row), policy, now);
  return {
    id: row.id,
    email: row.email,
    role: row.role === "admin" ? "admin" : "user",
    status: statusOf(state, now),
    lockedUntil: iso(state.lockedUntil),
    lockReason: state.lockReason,
    disabledReason: state.disabledReason,
    failedPasswordAttempts: state.password.failures,
    failedMfaAttempts: state.mfa.failures,
    lockoutCount: state.lockoutCount,
    lastFailedAt: iso(row.last_failed_at),
    lastFailedIp: row.last_failed_ip,
    lastLoginAt: iso(row.last_login_at),
    mfaEnabled: row.mfa_enabled === 1,
    createdAt: isoTime(row.created_at),
  };
}
