import { describe, expect, it } from "vitest";
import { agoText, timeView, utcText } from "../../src/time.ts";
import { eventLine } from "../../src/web/pages-admin-view.ts";

const NOW = Date.parse("2026-11-22T15:00:00Z");
const MIN = 60_000;

describe("times in words (one format for every page and mail)", () => {
  it("writes UTC to the second", () => {
    expect(utcText(Date.parse("2026-11-22T15:04:05.999Z"))).toBe("2026-11-22 15:04:05 UTC");
  });

  it("says how long ago, or how soon, in whole units", () => {
    expect(agoText(NOW - 59_000, NOW)).toBe("just now");
    expect(agoText(NOW + 10_000, NOW)).toBe("just now");
    expect(agoText(NOW - 5 * MIN, NOW)).toBe("5 min ago");
    expect(agoText(NOW - 59 * MIN, NOW)).toBe("59 min ago");
    expect(agoText(NOW - 60 * MIN, NOW)).toBe("1 h ago");
    expect(agoText(NOW + 150 * MIN, NOW)).toBe("in 2 h");
    expect(agoText(NOW - 24 * 60 * MIN, NOW)).toBe("1 day ago");
    expect(agoText(NOW - 3 * 24 * 60 * MIN, NOW)).toBe("3 days ago");
    // Far away the date alone says it.
    expect(agoText(NOW - 90 * 24 * 60 * MIN, NOW)).toBe("");
  });

  it("gives pages the machine value, the text and the words together", () => {
    expect(timeView("2026-11-22T14:55:00.000Z", NOW)).toEqual({ iso: "2026-11-22T14:55:00.000Z", utc: "2026-11-22 14:55:00 UTC", ago: "5 min ago" });
    expect(timeView(null, NOW)).toBeNull();
  });

  it("shows an event's user agent in words, keeping the raw string", () => {
    const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const line = eventLine({
      id: 1, type: "login.succeeded", at: NOW, userId: "u1", email: "a@example.com", ip: "203.0.113.5", userAgent: ua, message: "m", details: {},
    }, NOW);
    expect(line.client).toBe("Chrome 131 on Linux");
    expect(line.userAgent).toBe(ua);
  });
});
