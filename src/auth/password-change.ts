import { deleteUserChallenges, deleteUserSessions, type UserRow } from "../store/index.ts";
import { passwordChangedNotice } from "../notify/notices.ts";
import { mutateAccount } from "./apply.ts";
import type { AuthContext, Client } from "./context.ts";
import { guardSecret } from "./guard.ts";
import { checkNewPassword } from "./password-check.ts";
import { eventFor } from "./record.ts";

export type ChangePasswordResult =
  | { readonly kind: "changed" }
  /** `reason` completes "The password …". */
  | { readonly kind: "weak_password"; readonly reason: string }
  /** Wrong current password (counted), or the account is locked or disabled. */
  | { readonly kind: "refused" };

/**
 * Changes the password of a signed-in user. The current password goes through the same guard
 * as a login, so guessing it here counts towards the lock; other sessions end on success.
 */
export async function changePassword(
  ctx: AuthContext,
  session: { user: UserRow; tokenHash: string },
  input: { currentPassword: string; newPassword: string },
  client: Client,
): Promise<ChangePasswordResult> {
  // Checked before the current password, so a refusal says nothing about whether it was right.
  const verdict = await checkNewPassword(ctx, input.newPassword, { email: session.user.email, user: session.user }, client);
  if (!verdict.ok) return { kind: "weak_password", reason: verdict.reason };
  const result = await guardSecret(ctx, {
    userId: session.user.id,
    factor: "password",
    // A signed-in user's own check: it does not queue behind a flood of guesses.
    verify: (row) => ctx.hasher.verify(row.password_hash, input.currentPassword, { lane: "trusted" }),
    lane: "trusted",
    client,
    via: "password_change",
    onSuccess: "release",
  });
  if (result.kind !== "verified") return { kind: "refused" };
  const passwordHash = await ctx.hasher.hash(input.newPassword);
  const changed = await mutateAccount<never>(ctx, session.user.id, (row, state, now) => ({
    state,
    extra: { password_hash: passwordHash },
    events: [eventFor("password.changed", { user: row }, client, now, "password changed by the user; other sessions ended", {})],
    notices: [passwordChangedNotice(row, { by: "user" }, { client, now, version: row.version })],
  }));
  if (!changed.ok) return { kind: "refused" };
  await deleteUserSessions(ctx.database.db, session.user.id, { keep: session.tokenHash });
  await deleteUserChallenges(ctx.database.db, session.user.id);
  return { kind: "changed" };
}
