import type { FastifyInstance, FastifyReply } from "fastify";
import {
  DISABLE_NOTE_MAX_LENGTH, disableUser, enableUser, listDevices, unlockUser, userView, userViews, type Authenticated, type UserView,
} from "../auth/index.ts";
import { adminActor } from "../http/admin-guard.ts";
import { decodeEventCursor, encodeEventCursor } from "../http/routes/admin-events.ts";
import { decodeUserCursor, encodeUserCursor } from "../http/routes/admin-users.ts";
import { timeView } from "../time.ts";
import { formCheck, IdField, NoteField, TextField } from "../http/schemas.ts";
import { findUserById, listEvents, listUsers, type StatusFilter } from "../store/index.ts";
import { EMAIL_MAX_LENGTH } from "../text.ts";
import {
  actionsFor, deviceLine, eventLine, pageActionsFor, noticeOf, param, safeBack, statusBadge, utc, withNotice, withParams, type UserAction,
} from "./pages-admin-view.ts";
import type { WebDeps } from "./plugin.ts";
import { renderPage, viewerOf } from "./render.ts";

const USERS_PER_PAGE = 50;
const TIMELINE_PER_PAGE = 50;
const PAGE_SIZE_MAX = 200;
const STATUSES: readonly StatusFilter[] = ["active", "locked", "disabled"];
// The API's field rules (issue 8): the console refuses with 400 what the API answers 400 to.
export const isUserId = formCheck(IdField);
const isSearch = formCheck(TextField({ maxLength: EMAIL_MAX_LENGTH }));
const isNote = formCheck(NoteField({ maxLength: DISABLE_NOTE_MAX_LENGTH }));
const DONE: Readonly<Record<Extract<UserAction, "unlock" | "enable" | "disable">, string>> = {
  unlock: "unlocked", enable: "enabled", disable: "disabled",
};

/** A form field as a string ("" when absent or not text). */
export function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  return typeof value === "string" ? value : "";
}

/** `?limit=` within bounds, else the default (the forms never send it; tests and bookmarks may). */
export function pageSize(query: unknown, fallback: number): number {
  const n = Number(param(query, "limit"));
  return Number.isInteger(n) && n >= 1 && n <= PAGE_SIZE_MAX ? n : fallback;
}

export function userPath(id: string): string {
  return `/admin/users/${encodeURIComponent(id)}`;
}

/** A user as a row of the table or the head of its page: the view plus what the template shows. */
export function presented(user: UserView, viewer: Authenticated, deviceTrust: boolean, now: number) {
  return {
    ...user,
    path: userPath(user.id),
    badge: statusBadge(user, { deviceTrust }),
    lockedUntilText: user.lockedUntil === null ? "" : utc(user.lockedUntil),
    lastFailedText: utc(user.lastFailedAt),
    lastLoginText: utc(user.lastLoginAt),
    createdText: utc(user.createdAt),
    lastFailed: timeView(user.lastFailedAt, now),
    lastLogin: timeView(user.lastLoginAt, now),
    created: timeView(user.createdAt, now),
    isSelf: user.id === viewer.user.id,
    actions: actionsFor(user, viewer.user.id),
  };
}

/** A console form the API would answer 400 to: a page saying why, with 400, and nothing done. */
export async function malformed(reply: FastifyReply, request: { session: Authenticated | null }, message: string): Promise<FastifyReply> {
  return renderPage(reply, "admin-message", { title: "Not done", viewer: viewerOf(sessionOf(request)), tone: "error", message, wide: true }, 400);
}

export function sessionOf(request: { session: Authenticated | null }): Authenticated {
  if (request.session === null) throw new Error("console page reached without the admin guard");
  return request.session;
}

/** The users table, one user's page, and the action forms (POST, then 303 back with a notice). */
export async function adminUserPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { auth } = deps;
  const db = auth.database.db;

  app.get("/admin/users", { schema: { hide: true } }, async (request, reply) => {
    const session = sessionOf(request);
    const statusText = param(request.query, "status");
    const status = STATUSES.find((s) => s === statusText);
    const searched = param(request.query, "q");
    const q = isSearch(searched) ? searched : "";
    const cursor = param(request.query, "cursor");
    const limit = pageSize(request.query, USERS_PER_PAGE);
    const decoded = cursor === "" ? undefined : decodeUserCursor(cursor);
    const notice = q !== searched
      ? { tone: "error", text: `The search must be at most ${EMAIL_MAX_LENGTH} characters, without control characters.` }
      : decoded === null
        ? { tone: "error", text: "That page link is not valid; showing the first page." }
        : noticeOf(request.query as Record<string, unknown>);
    const now = auth.now();
    // One extra row tells whether another page exists without a COUNT.
    const rows = await listUsers(db, { status, q: q === "" ? undefined : q, after: decoded ?? undefined, limit: limit + 1, now });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const filters = { status, q: q === "" ? undefined : q };
    const described = [status ? `status ${status}` : "", q ? `e-mail containing “${q}”` : ""].filter(Boolean).join(", ");
    return renderPage(reply, "admin-users", {
      title: "Users", viewer: viewerOf(session), wide: true, notice,
      statuses: STATUSES.map((value) => ({ value, selected: value === status })),
      q,
      caption: `${page.length === 0 ? "No" : page.length} user${page.length === 1 ? "" : "s"}${described ? ` with ${described}` : ""}${decoded ? " (a later page)" : ""}`,
      users: (await userViews(auth, page)).map((user) => presented(user, session, auth.deviceTrust, now)),
      back: withParams("/admin/users", { ...filters, cursor: decoded ? cursor : undefined }),
      firstPage: decoded ? withParams("/admin/users", filters) : null,
      nextPage: rows.length > limit && last ? withParams("/admin/users", { ...filters, cursor: encodeUserCursor(last.email) }) : null,
    }, q === searched ? 200 : 400);
  });

  app.get("/admin/users/:id", { schema: { hide: true } }, async (request, reply) => {
    const session = sessionOf(request);
    const { id } = request.params as { id: string };
    const row = isUserId(id) ? await findUserById(db, id) : undefined;
    if (!row) {
      return renderPage(reply, "admin-message", {
        title: "No such user", viewer: viewerOf(session), tone: "error", message: "There is no user with this id.", wide: true,
      }, isUserId(id) ? 404 : 400);
    }
    const cursorText = param(request.query, "cursor");
    const cursor = cursorText === "" ? undefined : decodeEventCursor(cursorText);
    const limit = pageSize(request.query, TIMELINE_PER_PAGE);
    const events = await listEvents(db, { userId: row.id, order: "newest", limit: limit + 1, cursor: cursor ?? undefined });
    const page = events.slice(0, limit);
    const last = page.at(-1);
    const user = presented(await userView(auth, row), session, auth.deviceTrust, auth.now());
    // The note of the disable in force, from its event (the event log is the one record of it).
    const [disabled] = row.disabled_reason === "admin"
      ? await listEvents(db, { userId: row.id, type: "account.disabled", order: "newest", limit: 1 }) : [];
    const disableNote = typeof disabled?.details.note === "string" ? disabled.details.note : null;
    const devices = auth.deviceTrust ? await listDevices(auth, row.id, null) : [];
    return renderPage(reply, "admin-user", {
      title: row.email, viewer: viewerOf(session), wide: true, user: { ...user, actions: pageActionsFor(user, session.user.id) },
      disableNote,
      deviceTrust: auth.deviceTrust, devices: devices.map((device) => deviceLine(device, auth.now())),
      notice: cursor === null
        ? { tone: "error", text: "That page link is not valid; showing the newest events." }
        : noticeOf(request.query as Record<string, unknown>),
      back: withParams(user.path, { cursor: cursor ? cursorText : undefined }),
      events: page.map((event) => eventLine(event, auth.now())),
      firstPage: cursor ? user.path : null,
      nextPage: events.length > limit && last ? withParams(user.path, { cursor: encodeEventCursor(last.id) }) : null,
    });
  });

  for (const action of ["unlock", "enable", "disable"] as const) {
    app.post(`/admin/users/:id/${action}`, { schema: { hide: true } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const back = safeBack((request.body as Record<string, unknown> | null)?.back, userPath(id));
      if (!isUserId(id)) return malformed(reply, request, "There is no user with this id.");
      const actor = adminActor(request);
      const note = formField(request.body, "note");
      if (note.length > DISABLE_NOTE_MAX_LENGTH) return reply.redirect(withNotice(back, { error: "note_too_long", email: "" }), 303);
      if (!isNote(note)) return malformed(reply, request, "The note must not contain control characters.");
      const result = action === "unlock" ? await unlockUser(auth, id, actor)
        : action === "enable" ? await enableUser(auth, id, actor)
          : await disableUser(auth, id, actor, { note });
      if (result.ok) return reply.redirect(withNotice(back, { done: DONE[action], email: result.user.email }), 303);
      const target = result.error === "not_found" ? undefined : await findUserById(db, id);
      const error = result.error === "self" ? "cannot_disable_self" : result.error;
      return reply.redirect(withNotice(back, { error, email: target?.email ?? "" }), 303);
    });
  }
}
