import type { Insertable, Kysely } from "kysely";
import { prepared } from "./prepared.ts";
import type { Schema, SessionsTable } from "./schema.ts";

type Db = Kysely<Schema>;

export interface SessionRecord {
  readonly tokenHash: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

const sessionInsert = prepared((db: Db, row: Insertable<SessionsTable>) => db.insertInto("sessions").values(row));

export async function insertSession(db: Db, session: SessionRecord): Promise<void> {
  await sessionInsert.execute(db, {
    token_hash: session.tokenHash,
    user_id: session.userId,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    expires_at: session.expiresAt,
    ip: session.ip,
    user_agent: session.userAgent,
  });
}

export async function findSession(db: Db, tokenHash: string): Promise<SessionRecord | undefined> {
  const row = await db.selectFrom("sessions").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
  if (!row) return undefined;
  return {
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

export async function touchSession(db: Db, tokenHash: string, now: number): Promise<void> {
  await db.updateTable("sessions").set({ last_seen_at: now }).where("token_hash", "=", tokenHash).execute();
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom("sessions").where("token_hash", "=", tokenHash).execute();
}

/**
 * Ends every session of a user, optionally keeping one (the session that changed the password).
 * Whatever ends a user's sessions (disable, 2FA reset, password reset or change) also revokes
 * what apps hold through OpenID Connect: the provider's sessions, grants, codes and tokens, so
 * refresh fails and userinfo answers 401 at once, on every instance.
 */
export async function deleteUserSessions(db: Db, userId: string, options: { keep?: string } = {}): Promise<void> {
  let query = db.deleteFrom("sessions").where("user_id", "=", userId);
  if (options.keep !== undefined) query = query.where("token_hash", "<>", options.keep);
  await query.execute();
  await db.deleteFrom("oidc_payloads").where("account_id", "=", userId).execute();
}
