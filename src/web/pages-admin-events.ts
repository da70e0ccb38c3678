import type { FastifyInstance } from "fastify";
import { decodeEventCursor, encodeEventCursor, parseSince } from "../http/routes/admin-events.ts";
import { countMatchingEvents, EVENT_TYPES, listEvents, normalizeEmail } from "../store/index.ts";
import { formCheck, TextField } from "../http/schemas.ts";
import { EMAIL_MAX_LENGTH } from "../text.ts";
import { pageSize } from "./pages-admin-users.ts";
import { eventLine, param, utc, withParams, type Notice } from "./pages-admin-view.ts";
import type { WebDeps } from "./plugin.ts";
import { renderPage, viewerOf } from "./render.ts";

const EVENTS_PER_PAGE = 50;
// The API's rules for its filters (issue 8): what it answers 400 to, the page shows as a 400 too.
const isEmailFilter = formCheck(TextField({ maxLength: EMAIL_MAX_LENGTH }));
const isIpFilter = formCheck(TextField({ maxLength: 100 }));

/** The event log, newest first, filtered by type, e-mail, IP and since, with cursor pages. */
export async function adminEventPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { auth } = deps;

  app.get("/admin/events", { schema: { hide: true } }, async (request, reply) => {
    const typeText = param(request.query, "type");
    const type = EVENT_TYPES.find((t) => t === typeText);
    const emailText = param(request.query, "email");
    const ipText = param(request.query, "ip");
    const email = isEmailFilter(emailText) ? emailText : "";
    const ip = isIpFilter(ipText) ? ipText : "";
    const sinceText = param(request.query, "since");
    const cursorText = param(request.query, "cursor");
    const limit = pageSize(request.query, EVENTS_PER_PAGE);
    const problems: string[] = [];
    if (typeText !== "" && type === undefined) problems.push(`“${typeText}” is not an event type.`);
    const badText = email !== emailText || ip !== ipText;
    if (badText) problems.push("The e-mail and IP filters must be short text without control characters.");
    const since = sinceText === "" ? undefined : parseSince(sinceText, auth.now());
    if (since === null) problems.push("“Since” must be a duration such as 30m, 1h or 7d, or a time such as 2026-11-22T15:00:00Z.");
    const cursor = cursorText === "" ? undefined : decodeEventCursor(cursorText);
    if (cursor === null) problems.push("That page link is not valid; showing the newest events.");
    const filters = {
      type, email: email === "" ? undefined : email, ip: ip === "" ? undefined : ip,
      since: since === null ? undefined : sinceText || undefined,
    };
    const notice: Notice | null = problems.length > 0 ? { tone: "error", text: problems.join(" ") } : null;
    // An invalid filter shows nothing rather than everything: the admin asked for a subset.
    const invalidFilter = badText || since === null || (typeText !== "" && type === undefined);
    const rows = invalidFilter ? [] : await listEvents(auth.database.db, {
      type, ip: filters.ip, since: since ?? undefined, cursor: cursor ?? undefined,
      emailContains: filters.email === undefined ? undefined : normalizeEmail(filters.email),
      limit: limit + 1, order: "newest",
    });
    // The caption counts every matching event, not the page.
    const total = invalidFilter ? 0 : await countMatchingEvents(auth.database.db, {
      type, ip: filters.ip, since: since ?? undefined,
      emailContains: filters.email === undefined ? undefined : normalizeEmail(filters.email),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const described = [
      type ? `type ${type}` : "", filters.email ? `e-mail containing “${filters.email}”` : "", filters.ip ? `IP ${filters.ip}` : "",
      typeof since === "number" ? `since ${utc(since)}` : "",
    ].filter(Boolean).join(", ");
    return renderPage(reply, "admin-events", {
      title: "Event log", viewer: viewerOf(request.session), wide: true, notice,
      types: EVENT_TYPES.map((value) => ({ value, selected: value === type })),
      email, ip, since: sinceText,
      caption: `${total === 0 ? "No" : total} event${total === 1 ? "" : "s"}` +
        `${total > page.length ? ` (showing ${page.length})` : ""}, newest first` +
        `${described ? `, with ${described}` : ""}${cursor ? " (an older page)" : ""}`,
      events: page.map((event) => eventLine(event, auth.now())),
      firstPage: cursor ? withParams("/admin/events", filters) : null,
      nextPage: rows.length > limit && last ? withParams("/admin/events", { ...filters, cursor: encodeEventCursor(last.id) }) : null,
    }, invalidFilter ? 400 : 200);
  });
}
