import { deleteUserChallenges, deleteUserSessions, type UserRow } from "../store/index.ts";
import { passwordChangedNotice } from "../notify/notices.ts";
import { mutateAccount } from "./apply.ts";
import type { AuthContext, Client } from "./context.ts";
import { guardSecret } from "./guard.ts";
import { passwordProblem } from "./password.ts";
import { eventFor } from "./record.ts";

export type ChangePasswordResult =
  | { readonly kind: "changed" }
  | { readonly kind: "weak_password"; readonly message: string }
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
  const problem = passwordProblem(input.newPassword);
  if (problem !== null) return { kind: "weak_password", message: `newPassword ${problem}` };
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
