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
