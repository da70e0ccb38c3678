import type { Kysely } from "kysely";
import type { Schema } from "./schema.ts";

type Db = Kysely<Schema>;

export async function insertChallenge(
  db: Db,
  challenge: { tokenHash: string; userId: string; now: number; expiresAt: number; ip: string | null; deviceId?: string | null },
): Promise<void> {
  await db.insertInto("mfa_challenges").values({
    token_hash: challenge.tokenHash, user_id: challenge.userId, created_at: challenge.now,
    expires_at: challenge.expiresAt, ip: challenge.ip, device_id: challenge.deviceId ?? null,
  }).execute();
}

/** The user a pending, unexpired challenge belongs to, or null. */
export async function findChallengeUser(db: Db, tokenHash: string, now: number): Promise<string | null> {
  return (await findChallenge(db, tokenHash, now))?.userId ?? null;
}

/** A pending, unexpired challenge: its user and the trusted device its password came from. */
export async function findChallenge(
  db: Db, tokenHash: string, now: number,
): Promise<{ userId: string; deviceId: string | null } | null> {
  const row = await db.selectFrom("mfa_challenges").select(["user_id", "device_id"])
    .where("token_hash", "=", tokenHash).where("expires_at", ">", now).executeTakeFirst();
  return row ? { userId: row.user_id, deviceId: row.device_id } : null;
}

/** Spends a challenge; false when it was already spent, expired or invalidated by a lock. */
export async function consumeChallenge(db: Db, tokenHash: string, now: number): Promise<boolean> {
  const result = await db.deleteFrom("mfa_challenges")
    .where("token_hash", "=", tokenHash).where("expires_at", ">", now).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function deleteUserChallenges(db: Db, userId: string, options: { untrustedOnly?: boolean } = {}): Promise<void> {
  let query = db.deleteFrom("mfa_challenges").where("user_id", "=", userId);
  // A password lock stops untrusted clients only: a trusted device's sign-in may finish.
  if (options.untrustedOnly) query = query.where("device_id", "is", null);
  await query.execute();
}

/**
 * Accepts a TOTP time step once: succeeds only if it is after the last accepted step, so a
 * code cannot be replayed, even by two concurrent requests.
 */
export async function consumeTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const result = await db.updateTable("users").set({ totp_last_step: step })
    .where("id", "=", userId)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function replaceRecoveryCodes(db: Db, userId: string, codeHashes: readonly string[], now: number): Promise<void> {
  await db.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
  if (codeHashes.length === 0) return;
  await db.insertInto("recovery_codes")
    .values(codeHashes.map((code_hash) => ({ code_hash, user_id: userId, created_at: now, used_at: null })))
    .execute();
}

/** Spends a recovery code once; false when unknown, another user's or already used. */
export async function useRecoveryCode(db: Db, userId: string, codeHash: string, now: number): Promise<boolean> {
  const result = await db.updateTable("recovery_codes").set({ used_at: now })
    .where("user_id", "=", userId).where("code_hash", "=", codeHash).where("used_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom("recovery_codes").select((eb) => eb.fn.countAll<number>().as("n"))
    .where("user_id", "=", userId).where("used_at", "is", null).executeTakeFirstOrThrow();
  return Number(row.n);
}
