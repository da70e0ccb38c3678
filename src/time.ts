/** The latest instant a JavaScript Date can hold (epoch milliseconds). */
export const LATEST_TIME_MS = 8.64e15;

/**
 * ISO 8601 of an epoch-millisecond time that never throws: a value out of Date's range
 * (a corrupt row, an absurd setting) is clamped instead of turning an answer into a 500.
 *
 * @example isoTime(0) // "1970-01-01T00:00:00.000Z"
 */
export function isoTime(ms: number): string {
  const safe = Number.isFinite(ms) ? Math.max(-LATEST_TIME_MS, Math.min(LATEST_TIME_MS, Math.trunc(ms))) : 0;
  return new Date(safe).toISOString();
}

/**
 * The one way deadbolt shows a time to a person, in pages and mails: UTC, to the second,
 * unambiguous for a reader anywhere.
 *
 * @example utcText(Date.parse("2026-11-22T15:04:05.123Z")) // "2026-11-22 15:04:05 UTC"
 */
export function utcText(ms: number): string {
  return `${isoTime(ms).slice(0, 19).replace("T", " ")} UTC`;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * How far `ms` is from `now`, in words a glance reads ("5 min ago", "in 3 h", "2 days ago").
 * Whole units, rounded down; beyond 60 days it says nothing useful and returns "" (the date
 * beside it says enough).
 *
 * @example agoText(now - 5 * 60_000, now) // "5 min ago"
 */
export function agoText(ms: number, now: number): string {
  const distance = Math.abs(now - ms);
  if (!Number.isFinite(distance)) return "";
  if (distance < MINUTE_MS) return "just now";
  const [n, unit] = distance < HOUR_MS ? [Math.floor(distance / MINUTE_MS), "min"]
    : distance < DAY_MS ? [Math.floor(distance / HOUR_MS), "h"]
      : distance <= 60 * DAY_MS ? [Math.floor(distance / DAY_MS), "day"] : [0, ""];
  if (n === 0) return "";
  const words = unit === "day" ? `${n} day${n === 1 ? "" : "s"}` : `${n} ${unit}`;
  return ms <= now ? `${words} ago` : `in ${words}`;
}

/** A time as a page shows it: the `<time datetime>`, the UTC text and the relative words. */
export interface TimeView {
  readonly iso: string;
  readonly utc: string;
  readonly ago: string;
}

/** An ISO string or epoch milliseconds as a {@link TimeView}; null stays null ("never"). */
export function timeView(time: string | number | null, now: number): TimeView | null {
  if (time === null) return null;
  const ms = typeof time === "string" ? Date.parse(time) : time;
  return { iso: isoTime(ms), utc: utcText(ms), ago: agoText(ms, now) };
}
