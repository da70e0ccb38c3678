import type { ColumnType, Generated } from "kysely";

/** Times are epoch milliseconds (BIGINT on PostgreSQL, INTEGER on SQLite). */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: string;
  created_at: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  locked_until: number | null;
  locked_at: number | null;
  lock_reason: string | null;
  lockout_count: number;
  password_failures: number;
  password_last_failed_at: number | null;
  /** JSON array of verification slots in flight: [{id, expiresAt}]. */
  password_slots: string;
  mfa_failures: number;
  mfa_last_failed_at: number | null;
  mfa_slots: string;
  last_failed_at: number | null;
  last_failed_ip: string | null;
  last_login_at: number | null;
  mfa_enabled: number;
  /** Bumped by every lockout write: the compare-and-set that makes attempts race-proof. */
  version: number;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  at: number;
  user_id: string | null;
  email: string | null;
  ip: string | null;
  user_agent: string | null;
  message: string;
  /** JSON object. */
  details: ColumnType<string, string, string>;
}

export interface Schema {
  users: UsersTable;
  sessions: SessionsTable;
  events: EventsTable;
}
