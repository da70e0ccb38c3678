import { utcText } from "../time.ts";
/**
 * Bar charts drawn on the server as SVG markup: no script, no inline style (the CSP forbids
 * both), colours and fonts as SVG presentation attributes. Pure functions of their inputs.
 */

/** One bar: the count of events in the bucket that starts at `start` (epoch ms, UTC). */
export interface ChartBucket {
  readonly start: number;
  readonly value: number;
}

export interface BarChartInput {
  /** Unique in the page: prefixes the ids `aria-labelledby` points at. */
  readonly id: string;
  /** Short name, e.g. "Failed logins"; read by screen readers and shown as a tooltip. */
  readonly title: string;
  /** What one event is called, singular and plural: ["failed login", "failed logins"]. */
  readonly unit: readonly [string, string];
  readonly buckets: readonly ChartBucket[];
  readonly bucketMs: number;
  /** Bar colour (an SVG paint); it needs 3:1 contrast against white. */
  readonly color: string;
}

export interface YAxis {
  readonly max: number;
  readonly ticks: readonly number[];
}

const WIDTH = 560;
const HEIGHT = 200;
const MARGIN = { top: 12, right: 14, bottom: 30, left: 44 } as const;
const AXIS_COLOR = "#4d5663";
const GRID_COLOR = "#d4d9e0";
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Tick spacings an axis of hours and days reads well with. */
const TICK_SPACINGS_MS = [HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 4 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 2 * DAY_MS, 7 * DAY_MS];
const MAX_X_LABELS = 8;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Escapes text for an XML text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A y axis for whole counts: at most 5 steps of 1, 2 or 5 × 10^k reaching `max` (at least 1).
 *
 * @example yAxis(7) // { max: 8, ticks: [0, 2, 4, 6, 8] }
 */
export function yAxis(max: number): YAxis {
  const top = Math.max(1, Math.ceil(max));
  let step = 1;
  for (let magnitude = 1; ; magnitude *= 10) {
    const found = [1, 2, 5].map((m) => m * magnitude).find((s) => Math.ceil(top / s) <= 5);
    if (found !== undefined) { step = found; break; }
  }
  const steps = Math.ceil(top / step);
  return { max: steps * step, ticks: Array.from({ length: steps + 1 }, (_, i) => i * step) };
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "Nov 22" at midnight UTC, otherwise "14:30" (UTC). */
export function tickLabel(ms: number): string {
  const d = new Date(ms);
  if (ms % DAY_MS === 0) return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/**
 * "2026-11-22 14:30:00 UTC": a bucket's start, for tooltips, summaries and the data table, in
 * the one format every page shows times in (only the axis ticks are shorter).
 */
export function bucketLabel(ms: number): string {
  return utcText(ms);
}

/**
 * The bucket indexes that get an x-axis label: bucket starts on multiples (UTC) of the
 * smallest round spacing that leaves at most 8 labels.
 */
export function xTicks(buckets: readonly ChartBucket[], bucketMs: number): number[] {
  const span = buckets.length * bucketMs;
  const spacing = TICK_SPACINGS_MS.find((s) => s >= bucketMs && span / s <= MAX_X_LABELS) ?? TICK_SPACINGS_MS.at(-1) ?? DAY_MS;
  const ticks: number[] = [];
  buckets.forEach((bucket, index) => {
    if (bucket.start % spacing === 0) ticks.push(index);
  });
  return ticks;
}

/** "30-minute" or "6-hour": the length of a bucket, in words. */
export function periodWords(ms: number): string {
  return ms % HOUR_MS === 0 ? `${ms / HOUR_MS}-hour` : `${Math.round(ms / 60_000)}-minute`;
}

function count(n: number, unit: readonly [string, string]): string {
  return `${n} ${n === 1 ? unit[0] : unit[1]}`;
}

/** One sentence for screen readers: the total, the range and the busiest bucket. */
export function chartSummary(input: Pick<BarChartInput, "unit" | "buckets" | "bucketMs">): string {
  const { buckets, bucketMs, unit } = input;
  const first = buckets[0];
  const last = buckets.at(-1);
  if (first === undefined || last === undefined) return `No data.`;
  const total = buckets.reduce((sum, b) => sum + b.value, 0);
  const range = `from ${bucketLabel(first.start)} to ${bucketLabel(last.start + bucketMs)}`;
  if (total === 0) return `No ${unit[1]} ${range}.`;
  const peak = buckets.reduce((best, b) => (b.value > best.value ? b : best), first);
  return `${count(total, unit)} ${range}; the most, ${peak.value}, in the ${periodWords(bucketMs)} period from ${bucketLabel(peak.start)}.`;
}

/**
 * A bar chart as an `<svg role="img">` labelled by its title and summary; every bar carries
 * a `<title>` tooltip. Put a table of the same numbers beside it for readers who need one.
 *
 * @example barChart({ id: "failures", title: "Failed logins", unit: ["failed login", "failed logins"],
 *   buckets, bucketMs: 1_800_000, color: "#a4161a" })
 */
export function barChart(input: BarChartInput): string {
  const { buckets, bucketMs } = input;
  const id = escapeXml(input.id);
  const axis = yAxis(Math.max(0, ...buckets.map((b) => b.value)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = buckets.length > 0 ? plotW / buckets.length : plotW;
  const y = (value: number) => MARGIN.top + plotH - (value / axis.max) * plotH;
  const fmt = (n: number) => String(Math.round(n * 10) / 10);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="system-ui, sans-serif" font-size="13">`,
    `<title id="${id}-title">${escapeXml(input.title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(chartSummary(input))}</desc>`,
  ];
  for (const tick of axis.ticks) {
    const ty = fmt(y(tick));
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" stroke="${tick === 0 ? AXIS_COLOR : GRID_COLOR}" stroke-width="1"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${ty}" dy="4" text-anchor="end" fill="${AXIS_COLOR}">${tick}</text>`);
  }
  buckets.forEach((bucket, index) => {
    if (bucket.value <= 0) return;
    const top = y(bucket.value);
    const barW = Math.max(1, slot * 0.7);
    const tip = `${bucketLabel(bucket.start)}: ${count(bucket.value, input.unit)}`;
    parts.push(`<rect x="${fmt(MARGIN.left + index * slot + (slot - barW) / 2)}" y="${fmt(top)}" width="${fmt(barW)}" ` +
      `height="${fmt(MARGIN.top + plotH - top)}" fill="${escapeXml(input.color)}"><title>${escapeXml(tip)}</title></rect>`);
  });
  for (const index of xTicks(buckets, bucketMs)) {
    const bucket = buckets[index];
    if (bucket === undefined) continue;
    const tx = fmt(MARGIN.left + index * slot);
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
    // A label near the right edge would be clipped if centred on its tick.
    const anchor = Number(tx) > WIDTH - MARGIN.right - 24 ? "end" : "middle";
    parts.push(`<text x="${tx}" y="${HEIGHT - 10}" text-anchor="${anchor}" fill="${AXIS_COLOR}">${escapeXml(tickLabel(bucket.start))}</text>`);
  }
  parts.push("</svg>");
  return parts.join("");
}
