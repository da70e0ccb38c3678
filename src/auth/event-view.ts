import type { StoredEvent } from "../store/index.ts";

/** An event as the HTTP API shows it (`GET /api/admin/events`). */
export interface EventView {
  readonly id: number;
  readonly type: string;
  readonly at: string;
  readonly userId: string | null;
  readonly email: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export function toEventView(event: StoredEvent): EventView {
  return {
    id: event.id,
    type: event.type,
    at: new Date(event.at).toISOString(),
    userId: event.userId,
    email: event.email,
    ip: event.ip,
    userAgent: event.userAgent,
    message: event.message,
    details: event.details,
  };
}
