import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from "kysely";
import type { DisabledReason, Factor, FactorCounter, LockoutState, Role, Slot } from "../lockout/index.ts";
import { prepared } from "./prepared.ts";
import type { Schema, UsersTable } from "./schema.ts";

export type UserRow = Selectable<UsersTable>;
type Db = Kysely<Schema>;

export function parseSlots(json: string): Slot[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as Slot[]) : [];
  } catch {
    return [];
  }
}

function counter(failures: number, lastFailedAt: number | null, slots: string): FactorCounter {
  return { failures, lastFailedAt, slots: parseSlots(slots) };
}

/** The engine's view of a stored user. */
export function lockoutStateOf(row: UserRow): LockoutState {
  return {
    role: row.role as Role,
    disabledReason: row.disabled_reason as DisabledReason | null,
    lockedUntil: row.locked_until,
    lockReason: row.lock_reason as Factor | null,
    lockoutCount: row.lockout_count,
    password: counter(row.password_failures, row.password_last_failed_at, row.password_slots),
    mfa: counter(row.mfa_failures, row.mfa_last_failed_at, row.mfa_slots),
  };
}

function lockoutColumns(state: LockoutState, previous: UserRow, now: number): Updateable<UsersTable> {
  const newlyLocked = state.lockedUntil !== null && state.lockedUntil !== previous.locked_until;
  const newlyDisabled = state.disabledReason !== null && previous.disabled_reason === null;
  return {
    disabled_reason: state.disabledReason,
    disabled_at: state.disabledReason === null ? null : newlyDisabled ? now : previous.disabled_at,
    locked_until: state.lockedUntil,
    locked_at: state.lockedUntil === null ? null : newlyLocked ? now : previous.locked_at,
    lock_reason: state.lockReason,
    lockout_count: state.lockoutCount,
    password_failures: state.password.failures,
    password_last_failed_at: state.password.lastFailedAt,
    password_slots: JSON.stringify(state.password.slots),
    mfa_failures: state.mfa.failures,
    mfa_last_failed_at: state.mfa.lastFailedAt,
    mfa_slots: JSON.stringify(state.mfa.slots),
  };
}

export interface LockoutWrite {
  readonly state: LockoutState;
  readonly now: number;
  /** Other columns to set in the same statement (last_login_at, last_failed_ip, …). */
  readonly extra?: Updateable<UsersTable>;
  /** Refuse the write unless another admin stays active (the last admin is never disabled). */
  readonly requireOtherActiveAdmin?: boolean;
}

/**
 * Compare-and-set: writes `state` only if the row is still at `previous.version`.
 * Returns the row as written, or undefined when another attempt won the race; the caller then
 * reads again and re-decides.
 */
function lockoutUpdate(db: Db, id: string, version: number, columns: Updateable<UsersTable>) {
  return db.updateTable("users").set(columns).where("id", "=", id).where("version", "=", version);
}

const setLockout = prepared((db: Db, id: string, version: number, columns: Updateable<UsersTable>) =>
  lockoutUpdate(db, id, version, columns).returningAll());

const setLockoutKeepingAnAdmin = prepared((db: Db, id: string, version: number, columns: Updateable<UsersTable>) =>
  lockoutUpdate(db, id, version, columns)
    .where((eb) => eb.exists(
      eb.selectFrom("users as other").select("other.id")
        .where("other.role", "=", "admin")
        .where("other.disabled_reason", "is", null)
        .where("other.id", "<>", id),
    ))
    .returningAll());

export async function compareAndSetLockout(db: Db, previous: UserRow, write: LockoutWrite): Promise<UserRow | undefined> {
  const columns = { ...lockoutColumns(write.state, previous, write.now), ...write.extra, version: previous.version + 1 };
  // RETURNING hands the caller the new row, so the next step of an attempt needs no read.
  const statement = write.requireOtherActiveAdmin ? setLockoutKeepingAnAdmin : setLockout;
  return statement.takeFirst(db, previous.id, previous.version, columns);
}

const signedIn = prepared((db: Db, id: string, now: number) =>
  db.updateTable("users").set({ last_login_at: now })
    .where("id", "=", id).where("disabled_reason", "is", null)
    .where(sql<boolean>`NOT (COALESCE(lock_reason, '') = 'mfa' AND COALESCE(locked_until, 0) > ${now})`));

/**
 * Sets last_login_at, unless the account is disabled or locked for the second factor (which stop
 * trusted devices too): false then. Not a counter, so no compare-and-set.
 */
export async function markSignedInUnlessStopped(db: Db, id: string, now: number): Promise<boolean> {
  return Number((await signedIn.execute(db, id, now)).numAffectedRows) === 1;
}

const lastFailure = prepared((db: Db, id: string, now: number, ip: string | null) =>
  db.updateTable("users").set({ last_failed_at: now, last_failed_ip: ip }).where("id", "=", id));

/** Shown to admins as the last failure; not part of any counter, so no compare-and-set. */
export async function markLastFailure(db: Db, id: string, now: number, ip: string | null): Promise<void> {
  await lastFailure.execute(db, id, now, ip);
}

const userById = prepared((db: Db, id: string) => db.selectFrom("users").selectAll().where("id", "=", id));
const userByEmail = prepared((db: Db, email: string) => db.selectFrom("users").selectAll().where("email", "=", email));

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return userById.takeFirst(db, id);
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return userByEmail.takeFirst(db, email);
}

export async function countOtherActiveAdmins(db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom("users")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("role", "=", "admin")
    .where("disabled_reason", "is", null)
    .where("id", "<>", userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly now: number;
}

/** The full row of a new user: one place, shared by single inserts and bulk imports. */
export function newUserValues(user: NewUser): Insertable<UsersTable> {
  return {
    id: user.id,
    email: user.email,
    password_hash: user.passwordHash,
    role: user.role,
    created_at: user.now,
    lockout_count: 0,
    password_failures: 0,
    password_slots: "[]",
    mfa_failures: 0,
    mfa_slots: "[]",
    mfa_enabled: 0,
    version: 0,
    disabled_reason: null,
    disabled_at: null,
    locked_until: null,
    locked_at: null,
    lock_reason: null,
    password_last_failed_at: null,
    mfa_last_failed_at: null,
    last_failed_at: null,
    last_failed_ip: null,
    last_login_at: null,
    totp_secret: null,
    totp_pending_secret: null,
    totp_last_step: null,
  };
}

export async function insertUser(db: Db, user: NewUser): Promise<UserRow> {
  return db.insertInto("users").values(newUserValues(user)).returningAll().executeTakeFirstOrThrow();
}

/** Canonical form of an e-mail address: trimmed and lower-case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Replaces an imported (or outdated) hash after a successful login; a no-op when the hash
 * changed meanwhile (a password reset won), so an upgrade never undoes a newer password.
 */
export async function upgradePasswordHash(db: Db, id: string, from: string, to: string): Promise<boolean> {
  const result = await db.updateTable("users").set({ password_hash: to })
    .where("id", "=", id).where("password_hash", "=", from).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The user with this e-mail (the library: this account key), created with `user` if absent. */
export async function findOrInsertUser(db: Db, user: NewUser): Promise<UserRow> {
  const existing = await findUserByEmail(db, user.email);
  if (existing) return existing;
  // Concurrent first attempts on one account: one insert wins, the others read its row.
  await db.insertInto("users").values(newUserValues(user)).onConflict((oc) => oc.column("email").doNothing()).execute();
  const row = await findUserByEmail(db, user.email);
  if (!row) throw new Error(`account ${user.email} vanished right after it was created`);
  return row;
}
