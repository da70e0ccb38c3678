import { parseSince } from "../since.ts";
import { EVENT_TYPES, findUserByEmail, listEvents, normalizeEmail, type EventFilter } from "../store/index.ts";
import { text, type Values } from "./args.ts";
import { JSON_OPTION, printResult, withRuntime, type Command } from "./command.ts";
import { UsageError } from "./errors.ts";
import { toEventView } from "../auth/index.ts";
import { eventTable } from "./output.ts";

/** The largest --limit; a bigger request is almost certainly a typo. */
const MAX_LIMIT = 1_000_000;

function eventType(values: Values): string | undefined {
  const type = text(values, "type");
  if (type === undefined || (EVENT_TYPES as readonly string[]).includes(type)) return type;
  throw new UsageError(`--type: unknown event type ${JSON.stringify(type)}; expected one of ${EVENT_TYPES.join(", ")}`);
}

/** `--since 1h` (a duration back from now) or `--since 2026-01-31T12:00:00Z` (a moment). */
function since(values: Values, now: number): number | undefined {
  const value = text(values, "since");
  if (value === undefined) return undefined;
  // The same rule as the API and the console: a bounded duration or a time from 1970 to 9999.
  const at = parseSince(value, now);
  if (at === null) {
    throw new UsageError(`--since: ${JSON.stringify(value)} is neither a duration (30s, 15m, 1h, 7d; at most 100 years) nor an ISO 8601 time from 1970 to 9999`);
  }
  return at;
}

function limit(values: Values): number | undefined {
  const value = text(values, "limit");
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_LIMIT) {
    throw new UsageError(`--limit: ${JSON.stringify(value)} is not a whole number from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

export const EVENTS_COMMAND: Command = {
  name: "events",
  synopsis: "[--user <email>] [--type <t>] [--since 1h] [--limit N] [--json]",
  summary: "print security events, oldest first",
  details: [
    "--user <email>  only events about this e-mail address (also failed logins of an unknown address)",
    "--type <t>      only this type, e.g. login.failed, account.locked, account.unlocked",
    "--since <when>  only events since a duration ago (30s, 15m, 1h, 7d) or an ISO 8601 time",
    "--limit N       only the newest N matching events (still printed oldest first)",
    "--json          print a JSON array of events (the HTTP API's fields)",
  ],
  options: {
    user: { type: "string" }, type: { type: "string" }, since: { type: "string" }, limit: { type: "string" },
    ...JSON_OPTION,
  },
  args: [],
  run: (io, { values }) => {
    // Usage errors first, so a typo never needs a database.
    const type = eventType(values);
    const max = limit(values);
    const startedAt = Date.now();
    const from = since(values, startedAt);
    return withRuntime(io, async (runtime) => {
      const db = runtime.auth.database.db;
      const userOption = text(values, "user");
      const email = userOption === undefined ? undefined : normalizeEmail(userOption);
      if (email !== undefined && !(await findUserByEmail(db, email))) {
        io.stderr.write(`deadbolt: note: no user with e-mail ${email}; showing the events recorded for that address\n`);
      }
      // Events carry the subject's e-mail, so one filter covers a user and failed logins of the address.
      const filter: EventFilter = {
        email, type, since: from, limit: max, order: max === undefined ? "oldest" : "newest",
      };
      const events = (await listEvents(db, filter)).map(toEventView);
      if (max !== undefined) events.reverse();
      return printResult(io, values, events, () => events.length === 0 ? "no matching events\n" : eventTable(events));
    });
  },
};
