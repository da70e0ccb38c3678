import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { toEventView, type AuthContext } from "../../auth/index.ts";
import { parseSince } from "../../since.ts";
import { EVENT_TYPES, listEvents } from "../../store/index.ts";
import { requireAdmin } from "../admin-guard.ts";
import { sendError } from "../errors.ts";
import { ErrorSchema, IdField, TextField } from "../schemas.ts";

export { parseSince };

export interface AdminEventRouteDeps {
  readonly auth: AuthContext;
}

export const EVENTS_PAGE_DEFAULT = 100;
export const EVENTS_PAGE_MAX = 500;

const EventSchema = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  at: Type.String({ description: "ISO 8601 UTC" }),
  userId: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  details: Type.Object({}, { additionalProperties: true }),
});
const EventPage = Type.Object({ events: Type.Array(EventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** The opaque page cursor: the id of the last (oldest) event of the page, base64url-encoded. */
export function encodeEventCursor(id: number): string {
  return Buffer.from(String(id), "utf8").toString("base64url");
}

export function decodeEventCursor(cursor: string): number | null {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[1-9]\d{0,15}$/.test(text) || encodeEventCursor(Number(text)) !== cursor) return null;
  return Number(text);
}

export async function adminEventRoutes(app: FastifyInstance, deps: AdminEventRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));

  api.get("/api/admin/events", {
    schema: {
      summary: "Security events, newest first, with filters",
      tags: ["admin"],
      security: [{ bearer: [] }],
      querystring: Type.Object({
        userId: Type.Optional(IdField),
        type: Type.Optional(Type.Enum([...EVENT_TYPES])),
        ip: Type.Optional(TextField({ minLength: 1, maxLength: 100 })),
        since: Type.Optional(TextField({ minLength: 1, maxLength: 40, description: "A duration such as 1h or 7d (at most 100 years), or an ISO 8601 time from 1970 to 9999" })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENTS_PAGE_MAX, default: EVENTS_PAGE_DEFAULT })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: "^[A-Za-z0-9_-]+$" })),
      }),
      response: { 200: EventPage, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (request, reply) => {
    const { userId, type, ip } = request.query;
    const limit = request.query.limit ?? EVENTS_PAGE_DEFAULT;
    const since = request.query.since === undefined ? undefined : parseSince(request.query.since, auth.now());
    if (since === null) return sendError(reply, "invalid_request", "Invalid querystring: since must be a duration (1h, 7d; at most 100 years) or an ISO 8601 time from 1970 to 9999");
    const cursor = request.query.cursor === undefined ? undefined : decodeEventCursor(request.query.cursor);
    if (cursor === null) return sendError(reply, "invalid_request", "Invalid querystring: cursor is not one this API issued");
    // One extra row tells whether another page exists without a COUNT.
    const rows = await listEvents(auth.database.db, { userId, type, ip, since, cursor, limit: limit + 1, order: "newest" });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map(toEventView),
      nextCursor: rows.length > limit && last ? encodeEventCursor(last.id) : null,
    };
  });
}
