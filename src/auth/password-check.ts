import type { UserRow } from "../store/index.ts";
import type { BreachCheck } from "./breached.ts";
import type { AuthContext, Client } from "./context.ts";
import { checkLength, checkPassword, refusal, type PasswordVerdict, type WordList } from "./password-policy.ts";
import { eventFor, recordEvents } from "./record.ts";

/** What the auth layer needs to judge new passwords (SPEC "Passwords"). */
export interface PasswordSettings {
  /** DEADBOLT_PASSWORD_MIN_LENGTH. */
  readonly minLength: number;
  /** Words every password of this site is checked against: the app name, the public host. */
  readonly siteWords: readonly string[];
  /** The common-words dictionary, loaded on first call (it is large). */
  readonly words: () => Promise<WordList>;
  /** DEADBOLT_BREACHED_PASSWORDS=hibp, or null when off. */
  readonly breached: BreachCheck | null;
}

/** Whose password it is: an existing user, or the e-mail of one being created. */
export interface PasswordOwner {
  readonly email: string;
  readonly user: UserRow | null;
}

/**
 * The policy's own rules without the breach API: what a terminal prompt can say before the
 * password is typed again (checkNewPassword then asks the API once, when it is set).
 */
export async function checkLocally(ctx: AuthContext, password: string, owner: PasswordOwner): Promise<PasswordVerdict> {
  const settings = ctx.passwords;
  // Length first: an empty or oversized password never loads the dictionary or calls out.
  const length = checkLength(password, settings);
  if (!length.ok) return length;
  const words = await settings.words();
  return checkPassword(password, { minLength: settings.minLength, words }, [owner.email, ...settings.siteWords]);
}

/**
 * The one check of every new password (create, reset, change, admin and CLI reset; an
 * invitation's is the one chosen through its link). A refusal is an ordinary result; an
 * unreachable breach API is logged and recorded as `password.breach_check_failed`, and the
 * password is accepted (fail open: the check is advice, the lockout is the control).
 */
export async function checkNewPassword(
  ctx: AuthContext, password: string, owner: PasswordOwner, client: Client,
): Promise<PasswordVerdict> {
  const settings = ctx.passwords;
  const verdict = await checkLocally(ctx, password, owner);
  if (!verdict.ok || settings.breached === null) return verdict;
  const found = await settings.breached.lookup(password);
  if (found.kind === "breached") return refusal("breached", settings);
  if (found.kind === "unavailable") {
    await recordEvents(ctx, [eventFor("password.breach_check_failed", { user: owner.user, email: owner.email }, client, ctx.now(),
      `breached-password check unavailable (${found.reason}); the new password was accepted without it`,
      { reason: found.reason })]);
  }
  return verdict;
}
