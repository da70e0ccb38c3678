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
  /** AES-256-GCM ciphertext of the confirmed TOTP secret. */
  totp_secret: string | null;
  /** Secret shown at setup, waiting for a first valid code. */
  totp_pending_secret: string | null;
  /** The last accepted TOTP time step: a code at or before it is a replay. */
  totp_last_step: number | null;
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

export interface MfaChallengesTable {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
  /** The trusted device the password came from, or null for an untrusted client. */
  device_id: string | null;
}

export interface RecoveryCodesTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  used_at: number | null;
}

/** A security e-mail waiting in (or sent from) the transactional outbox. */
export interface OutboxTable {
  id: Generated<number>;
  /** Unique: the same notice (for example one lock episode) is queued once. */
  dedupe_key: string;
  kind: string;
  /** The recipient user. */
  user_id: string | null;
  to_email: string;
  /** JSON object; never a secret (tokens are created at send time). */
  payload: string;
  created_at: number;
  due_at: number;
  attempts: number;
  last_error: string | null;
  status: string;
  /** Lease of the dispatcher sending it; expired leases are claimed again. */
  claimed_until: number | null;
  claimed_by: string | null;
  sent_at: number | null;
}

/** Single-use unlock and password-reset tokens, stored as SHA-256. */
export interface TokensTable {
  token_hash: string;
  kind: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/**
 * Event counters per time bucket, written in the transaction of the event: the console's
 * charts and top-10 lists read these instead of scanning events.
 */
/** The number of users is SUM(n): triggers add a row (PostgreSQL) or update row 0 (SQLite). */
export interface UserTallyTable {
  id: Generated<number>;
  n: number;
}

export interface StatCountsTable {
  /** 't' totals (key ''), 'e' failed logins per e-mail, 'i' per client address. */
  kind: string;
  /** Bucket length in seconds. */
  res: number;
  key: string;
  /** Bucket start, epoch ms, a multiple of res × 1000. */
  start: number;
  failures: number;
  lockouts: number;
  /** For 'e': the largest user id seen with that e-mail (as MAX(user_id) over events). */
  user_id: string | null;
}

/** An OpenID Connect client registered by an admin (first-party). */
export interface OidcClientsTable {
  client_id: string;
  name: string;
  /** SHA-256 (hex) of the client secret; null for a public client. */
  secret_hash: string | null;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** JSON array. */
  post_logout_redirect_uris: string;
  created_at: number;
}

/** One oidc-provider artifact (Session, Grant, AuthorizationCode, RefreshToken, …). */
export interface OidcPayloadsTable {
  model: string;
  id: string;
  /** JSON object, as oidc-provider handed it over. */
  payload: string;
  grant_id: string | null;
  account_id: string | null;
  client_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

/** A signing key of the provider; the private JWK is sealed with DEADBOLT_SECRET_KEY. */
export interface OidcKeysTable {
  kid: string;
  alg: string;
  generation: number;
  sealed_jwk: string;
  created_at: number;
  active_from: number;
  published_until: number | null;
}

/** A running deadbolt process; its heartbeat keeps the verification slots it holds. */
export interface InstancesTable {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  /** Epoch milliseconds by the database's clock. */
  heartbeat_at: number;
}

/** A trusted device of one user: the browser's token (SHA-256 only) and that pair's own counter. */
export interface DevicesTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  ip: string | null;
  user_agent: string | null;
  locked_until: number | null;
  password_failures: number;
  password_last_failed_at: number | null;
  /** JSON array of verification slots in flight, as users.password_slots. */
  password_slots: string;
  /** Bumped by every counter write: the compare-and-set, as on users. */
  version: number;
}

export interface Schema {
  instances: InstancesTable;
  stat_counts: StatCountsTable;
  user_tally: UserTallyTable;
  devices: DevicesTable;
  oidc_clients: OidcClientsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_keys: OidcKeysTable;
  outbox: OutboxTable;
  tokens: TokensTable;
  mfa_challenges: MfaChallengesTable;
  recovery_codes: RecoveryCodesTable;
  users: UsersTable;
  sessions: SessionsTable;
  events: EventsTable;
}
