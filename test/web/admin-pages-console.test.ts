/** The console's dashboard (counts, charts, top tables) and its event log with filters. */
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser } from "../../src/auth/index.ts";
import { EVENT_TYPES } from "../../src/store/index.ts";
import { failLogins, USER_PASSWORD, withAdmin, type Session } from "../admin/support.ts";
import type { TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const HOUR = 3_600_000;
/** Every event type SPEC names under "Security events". */
const SPEC_TYPES = [
  "login.succeeded", "login.failed", "account.locked", "account.disabled", "account.unlocked", "account.enabled",
  "mfa.enabled", "mfa.disabled", "password.reset_requested", "password.reset", "notification.sent", "notification.failed",
];

describe.each(DIALECTS)("console pages: dashboard and events (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  afterEach(async () => t?.close());
  const page = (url: string) => t.app.inject({ method: "GET", url, headers: { cookie: admin.cookie } });

  /** Two days of history: a lock two days ago, failures an hour ago, a lock and a disable now. */
  async function setUp(): Promise<void> {
    ({ t, admin } = await withAdmin(dialect, { DEADBOLT_LOCKOUT_THRESHOLD: "3" }));
    for (const email of ["old@example.com", "target@example.com", "off@example.com"]) await t.createUser(email, USER_PASSWORD);
    t.clock.advance(-48 * HOUR);
    await failLogins(t, "old@example.com", 3, "192.0.2.1");
    t.clock.advance(47 * HOUR);
    await failLogins(t, "ghost@example.com", 2, "198.51.100.9");
    t.clock.advance(HOUR);
    await failLogins(t, "target@example.com", 3, "203.0.113.5");
    await disableUser(t.auth, (await t.createUser("gone@example.com", USER_PASSWORD)).id, CLI_ACTOR);
  }

  it("shows counts, two labelled SVG charts, their numbers as a table, and the top tables (24h)", async () => {
    await setUp();
    const response = await page("/admin");
    expect(response.statusCode).toBe(200);
    const stat = (id: string) => new RegExp(`id="${id}"[^>]*>[^<]*</h2>\\s*<p class="stat">(\\d+)</p>`).exec(response.body)?.[1];
    expect([stat("count-users"), stat("count-locked"), stat("count-disabled")]).toEqual(["5", "1", "1"]);
    expect(response.body.match(/<svg [^>]*role="img"/g)).toHaveLength(2);
    expect(response.body).toContain('<option value="24h" selected>Last 24 hours</option>');
    // The lock two days ago is outside the window; the five failures and one lock inside it are not.
    expect(response.body).toMatch(/<desc id="failures-chart-desc">5 failed logins from 2026-11-21 12:00:00 UTC to 2026-11-22 12:30:00 UTC; the most, 3, in the 30-minute period from 2026-11-22 12:00:00 UTC\.<\/desc>/);
    expect(response.body).toContain('<desc id="lockouts-chart-desc">1 lockout from');
    expect(response.body).toContain('<tr><th scope="row">2026-11-22 11:00:00 UTC</th><td class="num">2</td><td class="num">0</td></tr>');
    expect(response.body).toContain('<tr><th scope="row">2026-11-22 12:00:00 UTC</th><td class="num">3</td><td class="num">1</td></tr>');
    const targeted = /<table id="top-targeted">([\s\S]*?)<\/table>/.exec(response.body)?.[1] ?? "";
    expect(targeted.indexOf("target@example.com")).toBeLessThan(targeted.indexOf("ghost@example.com"));
    expect(targeted).toContain("ghost@example.com <span class=\"muted\">(no such user)</span>");
    expect(targeted).not.toContain("old@example.com");
    const sources = /<table id="top-sources">([\s\S]*?)<\/table>/.exec(response.body)?.[1] ?? "";
    expect(sources).toContain('href="/admin/events?type=login.failed&amp;ip=203.0.113.5"');
    expect(response.body).toContain('href="/admin/users"');
    expect(response.body).toContain('href="/admin/events"');
  });

  it("widens to 7 days with the window select; an unknown window falls back to 24 hours", async () => {
    await setUp();
    const week = await page("/admin?window=7d");
    expect(week.body).toContain('<option value="7d" selected>Last 7 days</option>');
    expect(week.body).toContain("Per 6-hour period, UTC.");
    expect(week.body).toMatch(/<desc id="lockouts-chart-desc">2 lockouts from /);
    expect(week.body).toContain("old@example.com");
    const odd = await page("/admin?window=<script>");
    expect(odd.statusCode).toBe(200);
    expect(odd.body).toContain('<option value="24h" selected>');
  });

  it("lists events newest first with every SPEC type in the filter, and filters by type, e-mail, IP and since", async () => {
    await setUp();
    const all = await page("/admin/events");
    expect(all.statusCode).toBe(200);
    for (const type of SPEC_TYPES) expect(all.body).toContain(`<option value="${type}">${type}</option>`);
    expect(EVENT_TYPES).toEqual(expect.arrayContaining(SPEC_TYPES));
    expect(all.body.indexOf("account disabled from the command line")).toBeLessThan(all.body.indexOf("account locked until 2026-11-20"));

    const locks = await page("/admin/events?type=account.locked");
    expect(locks.body).toContain('<option value="account.locked" selected>');
    expect(locks.body).toContain("2 events, newest first, with type account.locked");
    expect(locks.body).not.toContain('<span class="badge locked">login.failed</span>');

    const byEmail = await page("/admin/events?email=Ghost%40Example.com");
    expect(byEmail.body).toContain("2 events, newest first, with e-mail containing “Ghost@Example.com”");
    expect(byEmail.body).toContain("<dt>reason</dt><dd>unknown_user</dd>");

    const byIp = await page("/admin/events?ip=203.0.113.5&type=login.failed");
    expect(byIp.body).toContain("3 events, newest first, with type login.failed, IP 203.0.113.5");
    const user = /<a href="\/admin\/users\/([0-9a-f-]{36})">target@example.com<\/a>/.exec(byIp.body);
    expect(user).not.toBeNull();

    const recent = await page("/admin/events?type=login.failed&since=2h");
    expect(recent.body).toContain("5 events, newest first, with type login.failed, since 2026-11-22 10:00:00 UTC");
    const iso = await page("/admin/events?type=account.locked&since=2026-11-21T00:00:00Z");
    expect(iso.body).toContain("1 event, newest first, with type account.locked, since 2026-11-21 00:00:00 UTC");
  });

  it("pages through events with a cursor, and explains bad filters with a 400 notice", async () => {
    await setUp();
    const first = await page("/admin/events?type=login.failed&limit=4");
    expect(first.body.match(/<tr>\s*<td class="when"><time/g)).toHaveLength(4);
    const next = /<a href="([^"]+)" rel="next">Older events<\/a>/.exec(first.body)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toMatch(/^\/admin\/events\?type=login\.failed&cursor=/);
    const second = await page(`${next}&limit=4`);
    expect(second.body).toContain("an older page");
    expect(second.body).toContain('<a href="/admin/events?type=login.failed">Newest events</a>');

    const since = await page("/admin/events?since=yesterday");
    expect(since.statusCode).toBe(400);
    expect(since.body).toContain("“Since” must be a duration such as 30m, 1h or 7d");
    expect(since.body).toContain("No events");
    const type = await page("/admin/events?type=account.hacked");
    expect(type.statusCode).toBe(400);
    expect(type.body).toContain("“account.hacked” is not an event type.");
    const cursor = await page("/admin/events?cursor=bad");
    expect(cursor.statusCode).toBe(200);
    expect(cursor.body).toContain("That page link is not valid; showing the newest events.");
  });
});
