/**
 * The admin's user lifecycle beyond lock and disable (SPEC "Admin"): invite, reset the second
 * factor, mail a reset link, change the role, delete. Each is audited and answers with an
 * ordinary result; the last active admin is never demoted or deleted.
 */
import { forgetSecondFactor, type Role } from "../lockout/index.ts";
import { invitationNotice, mfaChangedNotice, resetNotice } from "../notify/notices.ts";
import {
  countOtherActiveAdmins, deleteUserChallenges, deleteUserRow, deleteUserSessions, enqueueNotices, findUserById,
  insertEvents, replaceRecoveryCodes, type UserRow,
} from "../store/index.ts";
import { byWords, createUser, type Actor, type CreateUserError } from "./accounts.ts";
import { mutateAccount, noticeLimits, queueNotices, reportQueued, type MutationResult } from "./apply.ts";
import type { AuthContext } from "./context.ts";
import { eventFor, logEvents } from "./record.ts";

/** Bytes of randomness in the password of an invited user, which nobody knows until they set theirs. */
const INVITED_PASSWORD_BYTES = 32;

function actorDetails(actor: Actor): Record<string, unknown> {
  return actor.email === undefined ? { by: actor.by } : { by: actor.by, actor: actor.email };
}

/** The acting admin, when the action comes from a signed-in admin (the CLI has none). */
export type AdminActor = Actor & { readonly userId?: string };

export type InviteResult = { ok: true; user: UserRow; invited: boolean } | { ok: false; error: CreateUserError; message: string };

/**
 * Creates a user. With a password it is ready to sign in; without one it gets a random
 * password nobody knows and an invitation mail whose single-use link (7 days) sets theirs.
 */
export async function inviteUser(
  ctx: AuthContext, input: { email: string; password?: string; role: Role }, actor: Actor,
): Promise<InviteResult> {
  const invited = input.password === undefined;
  const password = input.password ?? ctx.randomBytes(INVITED_PASSWORD_BYTES).toString("base64url");
  const created = await createUser(ctx, { email: input.email, password, role: input.role }, actor, { invited });
  if (!created.ok) return created;
  if (invited) {
    const notice = invitationNotice(created.user, {
      role: input.role, by: actor.by, actorEmail: actor.email ?? null, now: ctx.now(),
    });
    await queueNotices(ctx, [notice]);
  }
  return { ok: true, user: created.user, invited };
}

/**
 * Removes the user's second factor (TOTP secret and recovery codes) for someone who lost the
 * phone and the codes: ends their sessions and pending sign-ins, mails them, audits it. A
 * lock caused by wrong codes ends too. Without a second factor it changes nothing.
 */
export async function resetMfa(ctx: AuthContext, userId: string, actor: Actor): Promise<MutationResult<"not_found">> {
  let hadMfa = false;
  const result = await mutateAccount<never>(ctx, userId, (row, state, now) => {
    hadMfa = row.mfa_enabled === 1 || row.totp_pending_secret !== null;
    if (!hadMfa) return { state, events: [] };
    return {
      state: forgetSecondFactor(state, ctx.policy, now),
      extra: { totp_secret: null, totp_pending_secret: null, totp_last_step: null, mfa_enabled: 0 },
      events: [eventFor("mfa.disabled", { user: row }, actor.client, now,
        `two-step verification (TOTP) turned off ${byWords(actor)}; recovery codes deleted and sessions ended`,
        { method: "totp", reset: true, ...actorDetails(actor) })],
      notices: row.mfa_enabled === 1
        ? [mfaChangedNotice(row, "off", { by: actor.by === "cli" ? "cli" : "admin", actorEmail: actor.email ?? null },
          { client: actor.client, now, version: row.version })]
        : [],
    };
  });
  if (result.ok && hadMfa) {
    await replaceRecoveryCodes(ctx.database.db, userId, [], ctx.now());
    await deleteUserSessions(ctx.database.db, userId);
    await deleteUserChallenges(ctx.database.db, userId);
  }
  return result;
}

/** Mails the user a password-reset link (1 hour) at an admin's request; the reset budget applies. */
export async function sendResetLink(ctx: AuthContext, userId: string, actor: Actor): Promise<{ ok: true; user: UserRow; mailed: boolean } | { ok: false; error: "not_found" }> {
  const user = await findUserById(ctx.database.db, userId);
  if (!user) return { ok: false, error: "not_found" };
  const now = ctx.now();
  const notice = resetNotice(user, { client: actor.client, now }, ctx.randomBytes(12).toString("base64url"));
  const { events, outcomes } = await ctx.database.db.transaction().execute(async (trx) => {
    const outcomes = await enqueueNotices(trx, ctx.database.dialect, [notice], noticeLimits(ctx, now));
    const mailed = outcomes[0] === "queued";
    const events = [eventFor("password.reset_requested", { user }, actor.client, now, mailed
      ? `password reset link requested ${byWords(actor)}; it is being mailed to the user`
      : `password reset link requested ${byWords(actor)}; no mail sent: DEADBOLT_RESET_MAX_PER_HOUR reached`,
    { known: true, mailed, ...actorDetails(actor) })];
    await insertEvents(trx, events);
    return { events, outcomes };
  });
  logEvents(ctx, events);
  reportQueued(ctx, [notice], outcomes);
  return { ok: true, user, mailed: outcomes[0] === "queued" };
}

export type RoleChangeError = "not_found" | "last_admin" | "self";

/** Makes a user an admin or a user. The last active admin keeps the role; nobody changes their own. */
export function changeRole(ctx: AuthContext, userId: string, role: Role, actor: AdminActor): Promise<MutationResult<RoleChangeError>> {
  return mutateAccount<RoleChangeError>(ctx, userId, async (row, state, now) => {
    if (actor.userId === row.id) return "self";
    if (row.role === role) return { state, events: [] };
    const demotesActiveAdmin = row.role === "admin" && row.disabled_reason === null;
    if (demotesActiveAdmin && (await countOtherActiveAdmins(ctx.database.db, row.id)) === 0) return "last_admin";
    return {
      state: { ...state, role },
      extra: { role },
      requireOtherActiveAdmin: demotesActiveAdmin,
      events: [eventFor("user.role_changed", { user: row }, actor.client, now, `role changed from ${row.role} to ${role} ${byWords(actor)}`,
        { from: row.role, to: role, ...actorDetails(actor) })],
    };
  });
}

export type DeleteUserError = "not_found" | "last_admin" | "self";

/** Deletes a user for good; the event log keeps the e-mail. Never the last active admin, never yourself. */
export async function deleteUser(ctx: AuthContext, userId: string, actor: AdminActor): Promise<{ ok: true; email: string } | { ok: false; error: DeleteUserError }> {
  if (actor.userId === userId) return { ok: false, error: "self" };
  const user = await findUserById(ctx.database.db, userId);
  if (!user) return { ok: false, error: "not_found" };
  let recorded: ReturnType<typeof eventFor> | null = null;
  const outcome = await deleteUserRow(ctx.database.db, ctx.database.dialect, user, (row) => {
    recorded = eventFor("user.deleted", { user: row }, actor.client, ctx.now(), `${row.role} account ${row.email} deleted ${byWords(actor)}`,
      { role: row.role, ...actorDetails(actor) });
    return recorded;
  });
  if (outcome !== "deleted") return { ok: false, error: outcome };
  if (recorded !== null) logEvents(ctx, [recorded]);
  return { ok: true, email: user.email };
}
