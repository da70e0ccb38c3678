import type { Kysely } from "kysely";
import type { Schema } from "./schema.ts";

type Db = Kysely<Schema>;

/** `invite`: the set-password link of an invited user (SPEC: single use, 7 days). */
export type TokenKind = "unlock" | "reset" | "invite";

export interface NewToken {
  readonly tokenHash: string;
  readonly kind: TokenKind;
  readonly userId: string;
  readonly now: number;
  readonly expiresAt: number;
}

export async function insertTokens(db: Db, tokens: readonly NewToken[]): Promise<void> {
  if (tokens.length === 0) return;
  await db.insertInto("tokens").values(tokens.map((token) => ({
    token_hash: token.tokenHash,
    kind: token.kind,
    user_id: token.userId,
    created_at: token.now,
    expires_at: token.expiresAt,
    used_at: null,
  }))).execute();
}

/** The owner of an unused, unexpired token, without spending it (pages shown by a GET). */
export async function findUsableToken(db: Db, tokenHash: string, kind: TokenKind, now: number): Promise<string | null> {
  const row = await db.selectFrom("tokens").select("user_id")
    .where("token_hash", "=", tokenHash).where("kind", "=", kind)
    .where("used_at", "is", null).where("expires_at", ">", now)
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/**
 * Spends a token once: a conditional UPDATE, so of two concurrent uses exactly one wins.
 * Returns the owner, or null when the token is unknown, of another kind, used or expired.
 */
export async function consumeToken(db: Db, tokenHash: string, kind: TokenKind, now: number): Promise<string | null> {
  const row = await db.updateTable("tokens").set({ used_at: now })
    .where("token_hash", "=", tokenHash).where("kind", "=", kind)
    .where("used_at", "is", null).where("expires_at", ">", now)
    .returning("user_id")
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** Voids a user's unused tokens of one kind, except those listed (the ones just mailed). */
export async function voidUnusedTokens(
  db: Db, userId: string, kind: TokenKind, options: { except?: readonly string[] } = {},
): Promise<void> {
  let query = db.deleteFrom("tokens").where("user_id", "=", userId).where("kind", "=", kind).where("used_at", "is", null);
  if (options.except !== undefined && options.except.length > 0) query = query.where("token_hash", "not in", options.except);
  await query.execute();
}

/** Removes tokens that were created for a mail that could not be sent. */
export async function deleteTokens(db: Db, tokenHashes: readonly string[]): Promise<void> {
  if (tokenHashes.length === 0) return;
  await db.deleteFrom("tokens").where("token_hash", "in", tokenHashes).execute();
}
