import { parseDuration } from "./duration.ts";

/** The longest look back a `since` duration may ask for: more is a typo, not a question. */
export const SINCE_MAX_DURATION_MS = 100 * 366 * 86_400_000;
/** Events are stored in epoch milliseconds; a `since` time must lie between these (years 1970 to 9999). */
const EARLIEST_SINCE_MS = 0;
const LATEST_SINCE_MS = Date.parse("9999-12-31T23:59:59.999Z");
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `since` of the event filters (API, console, CLI): a duration back from `now` (`30s`, `15m`,
 * `1h`, `7d`, at most 100 years; a look back before 1970 starts at 1970) or an ISO 8601 time
 * between 1970 and 9999. Anything else, absurd numbers included, is null (a 400, never a
 * query that one database answers and the other refuses).
 *
 * @example parseSince("1h", Date.parse("2026-11-22T12:00:00Z")) // Date.parse("2026-11-22T11:00:00Z")
 */
export function parseSince(text: string, now: number): number | null {
  const ms = parseDuration(text);
  if (ms !== null) return ms <= SINCE_MAX_DURATION_MS ? Math.max(EARLIEST_SINCE_MS, now - ms) : null;
  const trimmed = text.trim();
  if (!ISO_TIME.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) && at >= EARLIEST_SINCE_MS && at <= LATEST_SINCE_MS ? at : null;
}
