/** Server-drawn SVG charts: pure functions, known answers. */
import { describe, expect, it } from "vitest";
import { barChart, bucketLabel, chartSummary, escapeXml, periodWords, tickLabel, xTicks, yAxis, type ChartBucket } from "../../src/web/charts.ts";

const HALF_HOUR = 1_800_000;
const SIX_HOURS = 6 * 3_600_000;
const START = Date.parse("2026-11-21T12:00:00Z");

function buckets(values: readonly number[], bucketMs = HALF_HOUR, start = START): ChartBucket[] {
  return values.map((value, index) => ({ start: start + index * bucketMs, value }));
}

const UNIT = ["failed login", "failed logins"] as const;

describe("charts", () => {
  it("scales the y axis to at most 5 steps of 1, 2 or 5 × 10^k", () => {
    expect(yAxis(0)).toEqual({ max: 1, ticks: [0, 1] });
    expect(yAxis(1)).toEqual({ max: 1, ticks: [0, 1] });
    expect(yAxis(3)).toEqual({ max: 3, ticks: [0, 1, 2, 3] });
    expect(yAxis(7)).toEqual({ max: 8, ticks: [0, 2, 4, 6, 8] });
    expect(yAxis(11)).toEqual({ max: 15, ticks: [0, 5, 10, 15] });
    expect(yAxis(100)).toEqual({ max: 100, ticks: [0, 20, 40, 60, 80, 100] });
    expect(yAxis(101)).toEqual({ max: 150, ticks: [0, 50, 100, 150] });
    expect(yAxis(4321)).toEqual({ max: 5000, ticks: [0, 1000, 2000, 3000, 4000, 5000] });
  });

  it("labels the x axis on round UTC times, at most 8 labels", () => {
    const day = buckets(new Array(49).fill(0));
    expect(xTicks(day, HALF_HOUR)).toEqual([0, 8, 16, 24, 32, 40, 48]);
    expect(xTicks(day, HALF_HOUR).map((i) => tickLabel(day[i]?.start ?? 0)))
      .toEqual(["12:00", "16:00", "20:00", "Nov 22", "04:00", "08:00", "12:00"]);
    const week = buckets(new Array(29).fill(0), SIX_HOURS, Date.parse("2026-11-15T12:00:00Z"));
    const weekTicks = xTicks(week, SIX_HOURS);
    expect(weekTicks.length).toBeLessThanOrEqual(8);
    expect(weekTicks.map((i) => tickLabel(week[i]?.start ?? 0))).toEqual(["Nov 16", "Nov 17", "Nov 18", "Nov 19", "Nov 20", "Nov 21", "Nov 22"]);
    expect(bucketLabel(Date.parse("2026-01-05T07:30:00Z"))).toBe("2026-01-05 07:30:00 UTC");
    expect(periodWords(HALF_HOUR)).toBe("30-minute");
    expect(periodWords(SIX_HOURS)).toBe("6-hour");
  });

  it("summarises a series in one sentence for screen readers", () => {
    expect(chartSummary({ unit: UNIT, bucketMs: HALF_HOUR, buckets: buckets([0, 0, 0]) }))
      .toBe("No failed logins from 2026-11-21 12:00:00 UTC to 2026-11-21 13:30:00 UTC.");
    expect(chartSummary({ unit: UNIT, bucketMs: HALF_HOUR, buckets: buckets([1, 4, 2]) }))
      .toBe("7 failed logins from 2026-11-21 12:00:00 UTC to 2026-11-21 13:30:00 UTC; the most, 4, in the 30-minute period from 2026-11-21 12:30:00 UTC.");
    expect(chartSummary({ unit: UNIT, bucketMs: HALF_HOUR, buckets: buckets([1]) })).toMatch(/^1 failed login from/);
    expect(chartSummary({ unit: UNIT, bucketMs: HALF_HOUR, buckets: [] })).toBe("No data.");
  });

  it("draws one bar per non-empty bucket, heights proportional, each with a tooltip", () => {
    const svg = barChart({ id: "f", title: "Failed logins", unit: UNIT, buckets: buckets([0, 2, 1, 0]), bucketMs: HALF_HOUR, color: "#a4161a" });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 560 200" role="img" aria-labelledby="f-title f-desc"/);
    expect(svg).toContain('<title id="f-title">Failed logins</title>');
    expect(svg).toContain('<desc id="f-desc">3 failed logins from');
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#a4161a"><title>([^<]+)<\/title><\/rect>/g)];
    expect(rects).toHaveLength(2);
    // Plot area: y from 12 to 170 (158 high); the axis tops at 2.
    expect(rects.map((r) => [Number(r[2]), Number(r[4])])).toEqual([[12, 158], [91, 79]]);
    expect(rects.map((r) => r[5])).toEqual(["2026-11-21 12:30:00 UTC: 2 failed logins", "2026-11-21 13:00:00 UTC: 1 failed login"]);
    expect(Number(rects[0]?.[1])).toBeLessThan(Number(rects[1]?.[1]));
    expect(svg.match(/<text [^>]*text-anchor="end" fill="#4d5663">\d+<\/text>/g)).toHaveLength(3);
    expect(svg).toMatch(/<\/svg>$/);
  });

  it("draws an empty series as axes only, and is deterministic", () => {
    const input = { id: "l", title: "Lockouts", unit: ["lockout", "lockouts"] as const, buckets: buckets(new Array(49).fill(0)), bucketMs: HALF_HOUR, color: "#8a4b00" };
    const svg = barChart(input);
    expect(svg).not.toContain("<rect");
    expect(svg).toContain("No lockouts from");
    expect(barChart(input)).toBe(svg);
  });

  it("escapes text and uses no style attribute or script (the CSP forbids inline ones)", () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
    const svg = barChart({ id: `x"><script>`, title: "<b>bold</b> & co", unit: UNIT, buckets: buckets([3]), bucketMs: HALF_HOUR, color: `red" onload="alert(1)` });
    expect(svg).not.toMatch(/<script|<b>|\sstyle=|\sonload="/);
    expect(svg).toContain('fill="red&#34; onload=&#34;alert(1)"');
    expect(svg).toContain("&#60;b&#62;bold&#60;/b&#62; &#38; co");
  });
});
