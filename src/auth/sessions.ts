import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import {
  deleteSession, findSession, findUserById, insertSession, touchSession, type Schema, type UserRow,
} from "../store/index.ts";
import type { AuthContext, Client } from "./context.ts";

/** Refreshing last-seen on every request would write on every read; once a minute is enough. */
const TOUCH_AFTER_MS = 60_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A new 256-bit session token; only its SHA-256 is stored. */
export async function createSession(ctx: AuthContext, user: UserRow, client: Client, db: Kysely<Schema> = ctx.database.db): Promise<string> {
  const token = ctx.randomBytes(32).toString("base64url");
  const now = ctx.now();
  await insertSession(db, {
    tokenHash: hashToken(token),
    userId: user.id,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + ctx.sessions.absoluteMs,
    ip: client.ip,
    userAgent: client.userAgent,
  });
  return token;
}

export interface Authenticated {
  readonly user: UserRow;
  readonly tokenHash: string;
}

/** The user behind a session token, or null when it is unknown, expired or the user is disabled. */
export async function authenticate(ctx: AuthContext, token: string): Promise<Authenticated | null> {
  if (token.length < 20 || token.length > 200) return null;
  const tokenHash = hashToken(token);
  const session = await findSession(ctx.database.db, tokenHash);
  if (!session) return null;
  const now = ctx.now();
  if (now >= session.expiresAt || now - session.lastSeenAt >= ctx.sessions.idleMs) {
    await deleteSession(ctx.database.db, tokenHash);
    return null;
  }
  const user = await findUserById(ctx.database.db, session.userId);
  if (!user || user.disabled_reason !== null) return null;
  // Refresh often enough that idle time always counts from (nearly) the last use.
  if (now - session.lastSeenAt >= Math.min(TOUCH_AFTER_MS, ctx.sessions.idleMs / 10)) {
    await touchSession(ctx.database.db, tokenHash, now);
  }
  return { user, tokenHash };
}

export async function endSession(ctx: AuthContext, token: string): Promise<void> {
  await deleteSession(ctx.database.db, hashToken(token));
}
