import { settle, statusOf, type AccountStatus, type Policy } from "../lockout/index.ts";
import { countUserDevices, lockoutStateOf, type UserRow } from "../store/index.ts";
import { isoTime } from "../time.ts";
import type { AuthContext } from "./context.ts";

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
  /** How many devices the user trusts (SPEC "Trusted devices"). */
  readonly trustedDevices: number;
  readonly createdAt: string;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/** Reads never write: an expired lock shows as active with fresh counters, straight from the row. */
export function toUserView(row: UserRow, policy: Policy, now: number, trustedDevices: number): UserView {
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
    trustedDevices,
    createdAt: isoTime(row.created_at),
  };
}

/** Views of several users, with their trusted-device counts in one query. */
export async function userViews(ctx: AuthContext, rows: readonly UserRow[]): Promise<UserView[]> {
  const counts = await countUserDevices(ctx.database.db, rows.map((row) => row.id));
  const now = ctx.now();
  return rows.map((row) => toUserView(row, ctx.policy, now, counts.get(row.id) ?? 0));
}

/** The view of one user, with its trusted-device count. */
export async function userView(ctx: AuthContext, row: UserRow): Promise<UserView> {
  const [view] = await userViews(ctx, [row]);
  return view!;
}
