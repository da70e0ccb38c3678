/** The console's users table, a user's page, and the Unlock / Enable / Disable forms. */
import type { LightMyRequestResponse } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser } from "../../src/auth/index.ts";
import { findUserByEmail, listEvents } from "../../src/store/index.ts";
import { ADMIN_EMAIL, failLogins, insertUsers, signIn, USER_PASSWORD, withAdmin, type Session } from "../admin/support.ts";
import type { TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const LOCKED = "locked@example.com";
const DISABLED = "disabled@example.com";
const ACTIVE = "active@example.com";

/** The `<tr>` of one user in the users table. */
function rowOf(html: string, email: string): string {
  const match = new RegExp(`<tr data-email="${email.replace(/[.]/g, "\\.")}">([\\s\\S]*?)</tr>`).exec(html);
  if (!match?.[1]) throw new Error(`no row for ${email}`);
  return match[1];
}

/** Action buttons and the links to confirmation pages ("Disable…"), in order. */
function buttons(row: string): string[] {
  return [...row.matchAll(/<(?:button type="submit"|a class="button small)[^>]*>([^<]+)<span/g)].map((m) => m[1] ?? "");
}

describe.each(DIALECTS)("console pages: users (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  const ids: Record<string, string> = {};
  afterEach(async () => t?.close());

  const page = (url: string) => t.app.inject({ method: "GET", url, headers: { cookie: admin.cookie } });
  /** A form POST as Chromium sends it from the console: same origin. */
  const press = (url: string, back = "/admin/users"): Promise<LightMyRequestResponse> => t.app.inject({
    method: "POST", url, payload: new URLSearchParams({ back }).toString(),
    headers: {
      cookie: admin.cookie, "content-type": "application/x-www-form-urlencoded",
      origin: new URL(t.config.publicUrl).origin, "sec-fetch-site": "same-origin",
    },
  });

  async function setUp(): Promise<void> {
    ({ t, admin } = await withAdmin(dialect, { DEADBOLT_LOCKOUT_THRESHOLD: "3" }));
    ids.admin = admin.userId;
    for (const email of [LOCKED, DISABLED, ACTIVE]) ids[email] = (await t.createUser(email, USER_PASSWORD)).id;
    await failLogins(t, LOCKED, 3, "198.51.100.23");
    await disableUser(t.auth, ids[DISABLED] ?? "", CLI_ACTOR);
  }

  it("shows one row per user with its badge, counts, last failure and the buttons its status allows", async () => {
    await setUp();
    const response = await page("/admin/users");
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("<caption>4 users</caption>");
    const locked = rowOf(response.body, LOCKED);
    expect(locked).toContain('<span class="badge locked">Locked for new devices until 2026-11-22 12:15:00 UTC (password)</span>');
    expect(locked).toMatch(/<td class="num">3<\/td>\s*<td class="num">0<\/td>\s*<td class="num">1<\/td>/);
    expect(locked).toContain("2026-11-22 12:00:00 UTC");
    expect(locked).toContain("198.51.100.23");
    expect(buttons(locked)).toEqual(["Unlock", "Disable…"]);
    expect(locked).toContain(`action="/admin/users/${ids[LOCKED]}/unlock"`);
    expect(locked).toContain(`<span class="visually-hidden"> ${LOCKED}</span>`);
    const disabled = rowOf(response.body, DISABLED);
    expect(disabled).toContain('<span class="badge disabled">Disabled (by an admin)</span>');
    expect(buttons(disabled)).toEqual(["Enable"]);
    const active = rowOf(response.body, ACTIVE);
    expect(active).toContain('<span class="badge active">Active</span>');
    expect(buttons(active)).toEqual(["Disable…"]);
    const self = rowOf(response.body, ADMIN_EMAIL);
    expect(self).toContain("(you)");
    expect(self).toContain('<span class="badge admin">admin</span>');
    expect(buttons(self)).toEqual([]);
  });

  it("filters by status and e-mail with a GET form, and pages with a cursor", async () => {
    await setUp();
    const locked = await page("/admin/users?status=locked");
    expect(locked.body).toContain("<caption>1 user with status locked</caption>");
    expect(locked.body).toContain('<option value="locked" selected>');
    expect(locked.body).toContain(`data-email="${LOCKED}"`);
    expect(locked.body).not.toContain(`data-email="${ACTIVE}"`);
    const searched = await page("/admin/users?q=ACTIVE");
    expect(searched.body).toContain(`data-email="${ACTIVE}"`);
    expect(searched.body).not.toContain(`data-email="${LOCKED}"`);
    expect(searched.body).toContain('value="ACTIVE"');

    await insertUsers(t, ["page-a@example.com", "page-b@example.com", "page-c@example.com"]);
    const first = await page("/admin/users?q=page-&limit=2");
    expect(first.body.match(/<tr data-email=/g)).toHaveLength(2);
    const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(first.body)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toMatch(/^\/admin\/users\?q=page-&cursor=/);
    const second = await page(`${next}&limit=2`);
    expect(second.body).toContain('data-email="page-c@example.com"');
    expect(second.body).not.toContain('rel="next"');
    expect(second.body).toContain('<a href="/admin/users?q=page-">First page</a>');
    const bad = await page("/admin/users?cursor=bm90LWFuLWVtYWls_");
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain("That page link is not valid; showing the first page.");
  });

  it("unlocks with a POST that redirects back, filters kept, with a notice; the user can sign in", async () => {
    await setUp();
    const response = await press(`/admin/users/${ids[LOCKED]}/unlock`, "/admin/users?status=locked&done=enabled");
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/admin/users?status=locked&done=unlocked&email=${encodeURIComponent(LOCKED)}`);
    const after = await page(String(response.headers.location));
    expect(after.body).toContain(`<div class="notice ok" role="status">${LOCKED} was unlocked; its failure counters start again from zero.</div>`);
    expect(after.body).not.toContain(`data-email="${LOCKED}"`);
    expect(rowOf((await page("/admin/users")).body, LOCKED)).toContain('<span class="badge active">Active</span>');
    const [event] = await listEvents(t.auth.database.db, { type: "account.unlocked", order: "newest", limit: 1 });
    expect(event).toMatchObject({ userId: ids[LOCKED], details: { by: "admin", actor: ADMIN_EMAIL, wasLocked: true } });
    await signIn(t, LOCKED, USER_PASSWORD);
  });

  it("enables and disables; disabling ends the user's sessions", async () => {
    await setUp();
    const enabled = await press(`/admin/users/${ids[DISABLED]}/enable`);
    expect(enabled.headers.location).toBe(`/admin/users?done=enabled&email=${encodeURIComponent(DISABLED)}`);
    expect((await page(String(enabled.headers.location))).body).toContain(`${DISABLED} was enabled.`);
    const session = await signIn(t, ACTIVE, USER_PASSWORD);
    const disabled = await press(`/admin/users/${ids[ACTIVE]}/disable`);
    expect(disabled.headers.location).toBe(`/admin/users?done=disabled&email=${encodeURIComponent(ACTIVE)}`);
    expect((await page(String(disabled.headers.location))).body).toContain(`${ACTIVE} was disabled and its sessions were ended.`);
    expect((await findUserByEmail(t.auth.database.db, ACTIVE))?.disabled_reason).toBe("admin");
    const me = await t.app.inject({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${session.token}` } });
    expect(me.statusCode).toBe(401);
  });

  it("explains a refused action in a notice, never a 500: self, last admin, unknown user", async () => {
    await setUp();
    const self = await press(`/admin/users/${ids.admin}/disable`);
    expect(self.statusCode).toBe(303);
    expect(self.headers.location).toBe(`/admin/users?error=cannot_disable_self&email=${encodeURIComponent(ADMIN_EMAIL)}`);
    const shown = await page(String(self.headers.location));
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain(`<div class="notice error" role="alert">Not done: ${ADMIN_EMAIL} is your own account: an admin cannot disable itself. Ask another admin.</div>`);
    expect((await findUserByEmail(t.auth.database.db, ADMIN_EMAIL))?.disabled_reason).toBeNull();
    // last_admin cannot arise from a live admin's own session (they are an active admin too), but its notice is worded.
    const lastAdmin = await page(`/admin/users?error=last_admin&email=${encodeURIComponent(ADMIN_EMAIL)}`);
    expect(lastAdmin.body).toContain(`${ADMIN_EMAIL} is the last active admin, so it cannot be disabled.`);
    const missing = await press("/admin/users/00000000-0000-0000-0000-000000000000/unlock");
    expect(missing.headers.location).toBe("/admin/users?error=not_found");
    expect((await page(String(missing.headers.location))).body).toContain("Not done: The user no longer exists.");
  });

  it("redirects only to console paths, whatever `back` says", async () => {
    await setUp();
    for (const back of ["https://evil.example/admin", "//evil.example/admin", "/login", "/admin-evil", "/admin/../login"]) {
      const response = await press(`/admin/users/${ids[LOCKED]}/unlock`, back);
      expect(response.headers.location, back).toBe(`/admin/users/${ids[LOCKED]}?done=unlocked&email=${encodeURIComponent(LOCKED)}`);
    }
  });

  it("shows a user's page with badges, buttons and its timeline newest first; 404 for an unknown id", async () => {
    await setUp();
    const response = await page(`/admin/users/${ids[LOCKED]}`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(`<h1>${LOCKED}</h1>`);
    expect(response.body).toContain('id="status-badge">Locked for new devices until 2026-11-22 12:15:00 UTC (password)</span>');
    expect(buttons(response.body)).toEqual(["Unlock", "Send password reset link", "Make admin", "Disable…", "Delete…"]);
    expect(response.body).toContain(`name="back" value="/admin/users/${ids[LOCKED]}"`);
    const locked = response.body.indexOf("account locked until 2026-11-22T12:15:00Z after 3 failed password attempts");
    const created = response.body.indexOf("user account created from the command line");
    expect(locked).toBeGreaterThan(0);
    expect(created).toBeGreaterThan(locked);
    expect(response.body).toContain("<dt>failedAttempts</dt><dd>3</dd>");
    const disabled = await page(`/admin/users/${ids[DISABLED]}`);
    expect(disabled.body).toContain('id="status-badge">Disabled (by an admin)</span>');
    expect(disabled.body).toContain("account disabled from the command line");
    const missing = await page("/admin/users/00000000-0000-0000-0000-000000000000");
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain("There is no user with this id.");
  });

  it("lists a user's trusted devices in words on its page, and forgets them all", async () => {
    await setUp();
    const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const login = await t.app.inject({
      method: "POST", url: "/api/auth/login", payload: { email: ACTIVE, password: USER_PASSWORD }, headers: { "user-agent": ua },
    });
    expect(login.statusCode, login.body).toBe(200);
    const before = await page(`/admin/users/${ids[ACTIVE]}`);
    expect(before.body).toMatch(/<summary title="[^"]+">Chrome 131 on Linux<\/summary><code>Mozilla\/5\.0 \(X11/);
    expect(before.body).toContain("Forget all 1 device</button>");
    const forgot = await press(`/admin/users/${ids[ACTIVE]}/forget-devices`, `/admin/users/${ids[ACTIVE]}`);
    expect(forgot.statusCode).toBe(303);
    expect(forgot.headers.location).toBe(`/admin/users/${ids[ACTIVE]}?done=devices-forgotten&email=${encodeURIComponent(ACTIVE)}`);
    const after = await page(forgot.headers.location as string);
    expect(after.body).toContain("no longer has trusted devices");
    expect(after.body).toContain("None. A browser becomes one when the user signs in with it");
    const [event] = await listEvents(t.auth.database.db, { userId: ids[ACTIVE], type: "device.forgotten", order: "newest", limit: 1 });
    expect(event?.message).toBe(`the one trusted device forgotten by admin ${ADMIN_EMAIL}`);
  });
});
