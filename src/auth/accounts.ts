import { randomUUID } from "node:crypto";
import { passwordChangedNotice, type ChangeActor } from "../notify/notices.ts";
import { disable, enable, settle, statusOf, unlock } from "../lockout/index.ts";
import {
  countOtherActiveAdmins, deleteUserChallenges, deleteUserSessions, findUserByEmail, findUserById, insertUser, normalizeEmail,
  type UserRow,
} from "../store/index.ts";
import type { Role } from "../lockout/index.ts";
import { restoredNotice } from "../notify/notices.ts";
import { mutateAccount, type MutationResult } from "./apply.ts";
import type { AuthContext, Client } from "./context.ts";
import { isoSeconds } from "./event-messages.ts";
import { forgetDevices } from "./devices.ts";
import { checkNewPassword } from "./password-check.ts";
import { eventFor, recordEvents } from "./record.ts";
import { CONTROL_CLASS, EMAIL_MAX_LENGTH } from "../text.ts";

/** Who performed an account change, for the audit trail. */
export interface Actor {
  readonly by: "admin" | "cli" | "token" | "password_reset" | "invitation" | "emergency";
  /** The acting admin's e-mail, when there is one. */
  readonly email?: string;
  readonly client: Client;
}

const NO_CLIENT: Client = { ip: null, userAgent: null };
export const CLI_ACTOR: Actor = { by: "cli", client: NO_CLIENT };

// No whitespace or control character (NUL, DEL, …) inside: the same rule for API, pages, CLI and import.
const LOCAL = `[^\\s@${CONTROL_CLASS}]+`;
const EMAIL_PATTERN = new RegExp(`^${LOCAL}@${LOCAL}\\.${LOCAL}$|^${LOCAL}@localhost$`, "u");

export function isValidEmail(email: string): boolean {
  return email.length <= EMAIL_MAX_LENGTH && EMAIL_PATTERN.test(normalizeEmail(email));
}

/** How an action was done, to end a sentence: "password reset with an e-mailed link". */
export function byWords(actor: Actor): string {
  switch (actor.by) {
    case "admin": return `by admin ${actor.email ?? "(unknown)"}`;
    case "cli": return "from the command line";
    case "token": return "with an e-mailed unlock link";
    case "password_reset": return "with an e-mailed link";
    case "invitation": return "with the invitation link";
    case "emergency": return "by DEADBOLT_EMERGENCY_UNLOCK at start-up";
  }
}

/** An administrator's unlock or enable is mailed to the user; their own token or reset is not. */
/** The actor as the user's notice names it. */
function changeActorOf(actor: Actor): ChangeActor {
  if (actor.by === "admin") return { by: "admin", actorEmail: actor.email ?? null };
  return actor.by === "token" || actor.by === "password_reset" ? { by: "token" } : { by: "cli" };
}

function restoredBy(actor: Actor): boolean {
  return actor.by === "admin" || actor.by === "cli";
}

function actorDetails(actor: Actor): Record<string, unknown> {
  return actor.email === undefined ? { by: actor.by } : { by: actor.by, actor: actor.email };
}

export type CreateUserError = "invalid_email" | "weak_password" | "email_taken";

export async function createUser(
  ctx: AuthContext,
  input: { email: string; password: string; role: Role },
  actor: Actor,
  options: { invited?: boolean } = {},
): Promise<{ ok: true; user: UserRow } | { ok: false; error: CreateUserError; message: string }> {
  const email = normalizeEmail(input.email);
  if (!isValidEmail(email)) return { ok: false, error: "invalid_email", message: "not a valid e-mail address" };
  const invited = options.invited === true;
  // An invited user's password is inviteUser's random placeholder, which nobody chose: the policy
  // (its dictionary, the breach API) judges the one they choose through the link.
  if (!invited) {
    const verdict = await checkNewPassword(ctx, input.password, { email, user: null }, actor.client);
    if (!verdict.ok) return { ok: false, error: "weak_password", message: `password ${verdict.reason}` };
  }
  if (await findUserByEmail(ctx.database.db, email)) {
    return { ok: false, error: "email_taken", message: "a user with this e-mail already exists" };
  }
  const passwordHash = await ctx.hasher.hash(input.password);
  let user: UserRow;
  try {
    user = await insertUser(ctx.database.db, { id: randomUUID(), email, passwordHash, role: input.role, now: ctx.now() });
  } catch (error) {
    // Lost a race with a concurrent create of the same address.
    if (await findUserByEmail(ctx.database.db, email)) {
      return { ok: false, error: "email_taken", message: "a user with this e-mail already exists" };
    }
    throw error;
  }
  await recordEvents(ctx, [eventFor("user.created", { user }, actor.client, ctx.now(),
    `${input.role} account created ${byWords(actor)}${invited ? "; an invitation to set a password is being mailed" : ""}`,
    { role: input.role, ...actorDetails(actor), ...(invited ? { invited } : {}) })]);
  return { ok: true, user };
}

/** Clears a temporary lock and the failure counters; a disabled account stays disabled. */
export function unlockUser(ctx: AuthContext, userId: string, actor: Actor): Promise<MutationResult<"not_found">> {
  return mutateAccount<never>(ctx, userId, (row, state, now) => {
    const current = settle(state, ctx.policy, now);
    const wasLocked = statusOf(current, now) === "locked";
    const message = wasLocked
      ? `account unlocked ${byWords(actor)} (was locked until ${isoSeconds(current.lockedUntil ?? now)})`
      : `failure counters reset ${byWords(actor)} (the account was not locked)`;
    const notices = wasLocked && restoredBy(actor)
      ? [restoredNotice(row, { action: "unlocked", by: actor.by, actorEmail: actor.email ?? null, now, version: row.version })]
      : [];
    return {
      state: unlock(state, ctx.policy, now),
      events: [eventFor("account.unlocked", { user: row }, actor.client, now, message, { ...actorDetails(actor), wasLocked })],
      notices,
    };
  });
}

/** Re-enables a disabled account with no lock and fresh counters. */
export function enableUser(ctx: AuthContext, userId: string, actor: Actor): Promise<MutationResult<"not_found">> {
  return mutateAccount<never>(ctx, userId, (row, state, now) => ({
    state: enable(state, ctx.policy, now),
    events: [eventFor("account.enabled", { user: row }, actor.client, now,
      row.disabled_reason === null ? `account enabled ${byWords(actor)} (it was not disabled)`
        : `account enabled ${byWords(actor)} (was disabled: ${row.disabled_reason})`,
      { ...actorDetails(actor), previousReason: row.disabled_reason })],
    notices: row.disabled_reason !== null && restoredBy(actor)
      ? [restoredNotice(row, { action: "enabled", by: actor.by, actorEmail: actor.email ?? null, now, version: row.version })]
      : [],
  }));
}

export type DisableError = "last_admin" | "self" | "not_found";

/** An admin's note on a disable ("left the company"), kept in the event. */
export const DISABLE_NOTE_MAX_LENGTH = 500;

/** Disables by request; ends the user's sessions. The last active admin is never disabled. */
export function disableUser(
  ctx: AuthContext, userId: string, actor: Actor & { userId?: string }, options: { note?: string } = {},
): Promise<MutationResult<DisableError>> {
  const note = options.note?.trim().slice(0, DISABLE_NOTE_MAX_LENGTH) ?? "";
  return mutateAccount<DisableError>(ctx, userId, async (row, state, now) => {
    if (actor.userId === row.id) return "self";
    const isAdmin = row.role === "admin";
    if (isAdmin && row.disabled_reason === null && (await countOtherActiveAdmins(ctx.database.db, row.id)) === 0) {
      return "last_admin";
    }
    if (row.disabled_reason !== null) {
      return { state, events: [] };
    }
    return {
      state: disable(state, "admin"),
      requireOtherActiveAdmin: isAdmin,
      events: [eventFor("account.disabled", { user: row }, actor.client, now,
        `account disabled ${byWords(actor)}${note === "" ? "" : `: “${note}”`}`,
        { reason: "admin", ...actorDetails(actor), ...(note === "" ? {} : { note }) })],
    };
  });
}

/** Which trusted device survives a new password: the browser that redeemed the link. */
export interface NewPasswordOptions {
  readonly keepDeviceToken?: string | null;
}

/** A new password the policy refused; `reason` completes "The password …". */
export interface WeakPassword {
  readonly ok: false;
  readonly error: "weak_password";
  readonly reason: string;
}

/**
 * Sets a new password after the policy accepted it: clears a temporary lock (not a disable)
 * and ends every session; forgets every trusted device but `keepDeviceToken`'s (the browser
 * that redeemed the reset link).
 */
export async function resetPassword(
  ctx: AuthContext, userId: string, password: string, actor: Actor, options: NewPasswordOptions = {},
): Promise<MutationResult<"not_found"> | WeakPassword> {
  const user = await findUserById(ctx.database.db, userId);
  if (!user) return { ok: false, error: "not_found" };
  const verdict = await checkNewPassword(ctx, password, { email: user.email, user }, actor.client);
  if (!verdict.ok) return { ok: false, error: "weak_password", reason: verdict.reason };
  return storeNewPassword(ctx, userId, password, actor, options);
}

/**
 * resetPassword without the policy, for a caller that has just checked the password itself
 * (the reset link checks before it spends its token).
 */
export async function storeNewPassword(
  ctx: AuthContext, userId: string, password: string, actor: Actor, options: NewPasswordOptions = {},
): Promise<MutationResult<"not_found">> {
  const passwordHash = await ctx.hasher.hash(password);
  const result = await mutateAccount<never>(ctx, userId, (row, state, now) => {
    const current = settle(state, ctx.policy, now);
    const wasLocked = statusOf(current, now) === "locked";
    const events = [eventFor("password.reset", { user: row }, actor.client, now, `password reset ${byWords(actor)}`, actorDetails(actor))];
    if (wasLocked) {
      events.push(eventFor("account.unlocked", { user: row }, actor.client, now,
        `account unlocked by the new password (was locked until ${isoSeconds(current.lockedUntil ?? now)})`,
        { by: "password_reset", wasLocked }));
    }
    // Choosing the first password from an invitation is no change to warn about.
    const notices = actor.by === "invitation" ? []
      : [passwordChangedNotice(row, changeActorOf(actor), { client: actor.client, now, version: row.version })];
    return { state: unlock(state, ctx.policy, now), events, extra: { password_hash: passwordHash }, notices };
  });
  if (result.ok) {
    // A new password ends every session and every sign-in half-way through the second factor.
    await deleteUserSessions(ctx.database.db, userId);
    await deleteUserChallenges(ctx.database.db, userId);
    await forgetDevices(ctx, result.user, { by: actor.by === "admin" || actor.by === "cli" ? actor.by : "password_reset", email: actor.email, client: actor.client },
      { keepToken: options.keepDeviceToken });
  }
  return result;
}

/**
 * DEADBOLT_EMERGENCY_UNLOCK: unlocks and enables one account at start-up, audited and loud,
 * so a locked-out only admin can always get back in without SQL.
 */
export async function emergencyUnlock(ctx: AuthContext, email: string): Promise<UserRow | null> {
  const user = await findUserByEmail(ctx.database.db, normalizeEmail(email));
  if (!user) {
    ctx.log.error({ email }, `DEADBOLT_EMERGENCY_UNLOCK: no account with e-mail ${email}; nothing was changed`);
    return null;
  }
  const result = await mutateAccount<never>(ctx, user.id, (row, state, now) => ({
    state: enable(state, ctx.policy, now),
    events: [eventFor("account.unlocked", { user: row }, NO_CLIENT, now,
      `account unlocked and enabled by DEADBOLT_EMERGENCY_UNLOCK at start-up (was ${statusOf(settle(state, ctx.policy, now), now)})`,
      { by: "emergency", previousStatus: statusOf(settle(state, ctx.policy, now), now), previousDisabledReason: row.disabled_reason })],
  }));
  if (!result.ok) return null;
  ctx.log.warn({ email: result.user.email, userId: result.user.id },
    `EMERGENCY UNLOCK: ${result.user.email} was unlocked and enabled at start-up; remove DEADBOLT_EMERGENCY_UNLOCK now`);
  return result.user;
}
