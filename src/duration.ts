const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration such as `500ms`, `2s`, `15m`, `24h` or `7d` into milliseconds.
 * Returns `null` for anything else, so the caller can name the bad variable.
 *
 * @example parseDuration("15m") // 900000
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return Number.isFinite(value) ? Math.round(value) : null;
}

/** Formats milliseconds as the largest whole unit, e.g. 900000 → "15m". */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
