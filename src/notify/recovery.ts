import { noticeLimits, reportQueued } from "../auth/apply.ts";
import { isValidEmail, storeNewPassword, unlockUser } from "../auth/accounts.ts";
import type { AuthContext, Client } from "../auth/context.ts";
import { trustClient } from "../auth/devices.ts";
import { checkNewPassword } from "../auth/password-check.ts";
import { eventFor, logEvents } from "../auth/record.ts";
import { hashToken } from "../auth/sessions.ts";
import {
  consumeToken, enqueueNotices, findUserByEmail, findUserById, findUsableToken, insertEvents, normalizeEmail, voidUnusedTokens,
  type TokenKind,
} from "../store/index.ts";
import { isTokenShaped } from "./links.ts";
import { resetNotice } from "./notices.ts";

/**
 * `POST /api/auth/password/forgot`: queues a reset mail when the address belongs to an
 * account (locked and disabled ones included) and records `password.reset_requested`
 * either way. Returns nothing, so no caller can tell known addresses from unknown ones.
 */
/**
 * `known` is for the caller's answer timing only (a known address does more database work);
 * it must never reach the answer.
 */
export async function requestPasswordReset(ctx: AuthContext, email: string, client: Client): Promise<{ readonly known: boolean }> {
  const now = ctx.now();
  const address = normalizeEmail(email);
  const user = isValidEmail(address) ? await findUserByEmail(ctx.database.db, address) : undefined;
  if (!user) {
    const events = [eventFor("password.reset_requested", { user: null, email: address.slice(0, 254) }, client, now,
      "password reset requested for an unknown e-mail address; nothing was sent", { known: false })];
    await insertEvents(ctx.database.db, events);
    logEvents(ctx, events);
    return { known: false };
  }
  const notice = resetNotice(user, { client, now }, ctx.randomBytes(12).toString("base64url"));
  const { events, outcomes } = await ctx.database.db.transaction().execute(async (trx) => {
    const outcomes = await enqueueNotices(trx, ctx.database.dialect, [notice], noticeLimits(ctx, now));
    const queued = outcomes[0] === "queued";
    const events = [eventFor("password.reset_requested", { user }, client, now, queued
      ? "password reset requested; a reset link is being mailed"
      : "password reset requested; no mail sent: DEADBOLT_RESET_MAX_PER_HOUR reached", { known: true, mailed: queued })];
    await insertEvents(trx, events);
    return { events, outcomes };
  });
  logEvents(ctx, events);
  reportQueued(ctx, [notice], outcomes);
  return { known: true };
}

/** True when `token` is an unused, unexpired token of `kind`; never spends it (for GET pages). */
export async function isUsableToken(ctx: AuthContext, token: string, kind: TokenKind): Promise<boolean> {
  if (!isTokenShaped(token)) return false;
  return (await findUsableToken(ctx.database.db, hashToken(token), kind, ctx.now())) !== null;
}

/** A redeemed link: the client is now a trusted device with this token (null when trust is off). */
export interface Redeemed {
  readonly deviceToken: string | null;
}

export type RedeemUnlockResult = Redeemed | "invalid_token";

/**
 * `POST /api/auth/unlock`: spends an e-mailed unlock token and clears the lock (not a disable).
 * The client that redeems it becomes a trusted device, so it signs in even while an attacker
 * keeps re-locking the account for untrusted clients.
 */
export async function redeemUnlockToken(
  ctx: AuthContext, token: string, client: Client, options: { deviceToken?: string | null } = {},
): Promise<RedeemUnlockResult> {
  if (!isTokenShaped(token)) return "invalid_token";
  const userId = await consumeToken(ctx.database.db, hashToken(token), "unlock", ctx.now());
  if (userId === null) return "invalid_token";
  const result = await unlockUser(ctx, userId, { by: "token", client });
  if (!result.ok) return "invalid_token";
  return { deviceToken: await trustClient(ctx, result.user, { token: options.deviceToken, client, via: "unlock_link" }) };
}

export type RedeemResetResult =
  | { readonly kind: "reset"; readonly deviceToken: string | null }
  | { readonly kind: "invalid_token" }
  /** `reason` completes "The password …". */
  | { readonly kind: "weak_password"; readonly reason: string };

/** Which password token this is: a reset link, or an invitation's set-password link. */
async function passwordTokenKind(ctx: AuthContext, token: string): Promise<"reset" | "invite" | null> {
  if (await isUsableToken(ctx, token, "reset")) return "reset";
  if (await isUsableToken(ctx, token, "invite")) return "invite";
  return null;
}

/**
 * `POST /api/auth/password/reset` (and the /reset and /set-password pages): sets a new password
 * with an e-mailed reset token or an invitation's set-password token, which clears a temporary
 * lock (not a disable) and ends every session. A weak password is refused before the token is
 * spent, so the user can try again with the same link.
 */
export async function redeemResetToken(
  ctx: AuthContext, token: string, password: string, client: Client, options: { deviceToken?: string | null } = {},
): Promise<RedeemResetResult> {
  const invalid = { kind: "invalid_token" } as const;
  if (!isTokenShaped(token)) return invalid;
  const kind = await passwordTokenKind(ctx, token);
  if (kind === null) return invalid;
  const owner = await findUsableToken(ctx.database.db, hashToken(token), kind, ctx.now());
  const user = owner === null ? undefined : await findUserById(ctx.database.db, owner);
  if (!user) return invalid;
  const verdict = await checkNewPassword(ctx, password, { email: user.email, user }, client);
  if (!verdict.ok) return { kind: "weak_password", reason: verdict.reason };
  const userId = await consumeToken(ctx.database.db, hashToken(token), kind, ctx.now());
  if (userId === null) return invalid;
  const result = await storeNewPassword(ctx, userId, password, { by: kind === "invite" ? "invitation" : "password_reset", client }, {
    keepDeviceToken: options.deviceToken,
  });
  if (!result.ok) return invalid;
  // Any other link mailed earlier is void now that the password changed.
  await voidUnusedTokens(ctx.database.db, userId, "reset");
  await voidUnusedTokens(ctx.database.db, userId, "invite");
  return { kind: "reset", deviceToken: await trustClient(ctx, result.user, { token: options.deviceToken, client, via: "reset_link" }) };
}
