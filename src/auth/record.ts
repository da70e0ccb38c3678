import type { Kysely } from "kysely";
import { insertEvents, type EventType, type Schema, type SecurityEvent, type UserRow } from "../store/index.ts";
import type { AuthContext, Client } from "./context.ts";

const LOUD: ReadonlySet<EventType> = new Set([
  "account.locked", "account.disabled", "notification.failed", "password.breach_check_failed",
]);

/** Builds an event about `user` (or an unknown e-mail) seen from `client`. */
export function eventFor(
  type: EventType,
  subject: { user: UserRow | null; email?: string | null },
  client: Client,
  at: number,
  message: string,
  details: Record<string, unknown> = {},
): SecurityEvent {
  return {
    type,
    at,
    userId: subject.user?.id ?? null,
    email: subject.user?.email ?? subject.email ?? null,
    ip: client.ip,
    userAgent: client.userAgent,
    message,
    details,
  };
}

/** Logs events with the same words as the database; call after the transaction commits. */
export function logEvents(ctx: Pick<AuthContext, "log">, events: readonly SecurityEvent[]): void {
  for (const event of events) {
    const fields = {
      event: event.type, userId: event.userId, email: event.email, ip: event.ip, details: event.details,
    };
    if (LOUD.has(event.type)) ctx.log.warn(fields, event.message);
    else ctx.log.info(fields, event.message);
  }
}

/** Inserts events outside any lockout write (for example `login.failed` of an unknown e-mail). */
export async function recordEvents(
  ctx: Pick<AuthContext, "log" | "database">,
  events: readonly SecurityEvent[],
  db: Kysely<Schema> = ctx.database.db,
): Promise<void> {
  await insertEvents(db, events);
  logEvents(ctx, events);
}
