/** The console's wording and links: badges, buttons, notices, redirects. Pure functions. */
import { describe, expect, it } from "vitest";
import type { UserView } from "../../src/auth/index.ts";
import {
  actionsFor, eventLine, noticeOf, safeBack, statusBadge, utc, withNotice, withParams,
} from "../../src/web/pages-admin-view.ts";

const BASE: UserView = {
  id: "u1", email: "a@example.com", role: "user", status: "active", lockedUntil: null, lockReason: null, disabledReason: null,
  failedPasswordAttempts: 0, failedMfaAttempts: 0, lockoutCount: 0, lastFailedAt: null, lastFailedIp: null, lastLoginAt: null,
  mfaEnabled: false, trustedDevices: 0, createdAt: "2026-11-22T12:00:00.000Z",
};
const LOCKED: UserView = { ...BASE, status: "locked", lockedUntil: "2026-11-22T15:04:05.000Z", lockReason: "password" };

describe("console wording", () => {
  it("badges say locked until when and why, or disabled and why, never 'locked' for a disable", () => {
    expect(statusBadge(BASE)).toEqual({ tone: "active", text: "Active" });
    expect(statusBadge(LOCKED)).toEqual({ tone: "locked", text: "Locked until 2026-11-22 15:04:05 UTC (password)" });
    expect(statusBadge({ ...LOCKED, lockReason: "mfa" }).text).toBe("Locked until 2026-11-22 15:04:05 UTC (2FA)");
    // With trusted devices a password lock stops new devices only, and the badge says so; a 2FA lock stops all.
    expect(statusBadge(LOCKED, { deviceTrust: true }).text).toBe("Locked for new devices until 2026-11-22 15:04:05 UTC (password)");
    expect(statusBadge({ ...LOCKED, lockReason: "mfa" }, { deviceTrust: true }).text).toBe("Locked until 2026-11-22 15:04:05 UTC (2FA)");
    const disabled = (reason: UserView["disabledReason"]) => statusBadge({ ...BASE, status: "disabled", disabledReason: reason });
    expect(disabled("admin")).toEqual({ tone: "disabled", text: "Disabled (by an admin)" });
    expect(disabled("mfa_failures").text).toBe("Disabled (too many failed 2FA codes)");
    expect(disabled("repeated_lockouts").text).toBe("Disabled (repeated lockouts)");
    expect(disabled("mfa_failures").text).not.toMatch(/lock/i);
  });

  it("offers the buttons the status allows, and never Disable on one's own row", () => {
    const names = (user: UserView, viewer = "admin-id") => actionsFor(user, viewer).map((b) => b.label);
    expect(names(BASE)).toEqual(["Disable…"]);
    expect(names(LOCKED)).toEqual(["Unlock", "Disable…"]);
    expect(names({ ...BASE, status: "disabled", disabledReason: "admin" })).toEqual(["Enable"]);
    expect(names(BASE, BASE.id)).toEqual([]);
    expect(names(LOCKED, LOCKED.id)).toEqual(["Unlock"]);
  });

  it("turns the query string of a redirect into a notice", () => {
    expect(noticeOf({ done: "unlocked", email: "a@example.com" })).toEqual({ tone: "ok", text: "a@example.com was unlocked; its failure counters start again from zero." });
    expect(noticeOf({ error: "last_admin", email: "root@example.com" })?.text).toBe("Not done: root@example.com is the last active admin, so it cannot be disabled. Make another admin first.");
    expect(noticeOf({ error: "cannot_disable_self", email: "root@example.com" })?.tone).toBe("error");
    expect(noticeOf({ done: "pwned", email: "a@example.com" })).toBeNull();
    expect(noticeOf({ done: "enabled", email: "not an e-mail <b>" })?.text).toBe("The user was enabled.");
    expect(noticeOf({})).toBeNull();
  });

  it("returns only to console paths, dropping an earlier notice", () => {
    const fallback = "/admin/users/u1";
    expect(safeBack("/admin/users?status=locked&done=enabled&email=x%40y", fallback)).toBe("/admin/users?status=locked");
    expect(safeBack("/admin", fallback)).toBe("/admin");
    for (const bad of ["https://evil.example/admin", "//evil.example/admin", "/\\evil.example", "/login", "/admins", "/admin/../login", undefined, 42, "/admin/" + "x".repeat(2001)]) {
      expect(safeBack(bad, fallback), String(bad)).toBe(fallback);
    }
    expect(withNotice("/admin/users?q=a", { done: "unlocked", email: "a@example.com" })).toBe("/admin/users?q=a&done=unlocked&email=a%40example.com");
    expect(withNotice("/admin/users", { error: "not_found", email: "" })).toBe("/admin/users?error=not_found");
    expect(withParams("/admin/users", { status: undefined, q: "", cursor: "abc" })).toBe("/admin/users?cursor=abc");
    expect(withParams("/admin/users", {})).toBe("/admin/users");
  });

  it("formats times in UTC and event details as name/value pairs", () => {
    expect(utc("2026-11-22T15:04:05.123Z")).toBe("2026-11-22 15:04:05 UTC");
    expect(utc(Date.parse("2026-01-02T03:04:05Z"))).toBe("2026-01-02 03:04:05 UTC");
    expect(utc(null)).toBe("never");
    const line = eventLine({
      id: 7, type: "account.locked", at: Date.parse("2026-11-22T12:00:00Z"), userId: "u1", email: "a@example.com", ip: null,
      userAgent: null, message: "account locked", details: { factor: "mfa", failedAttempts: 5, nested: { a: [1] } },
    }, Date.parse("2026-11-22T12:05:30Z"));
    expect(line).toMatchObject({ tone: "locked", at: "2026-11-22 12:00:00 UTC", atIso: "2026-11-22T12:00:00.000Z", client: null });
    expect(line.time).toEqual({ iso: "2026-11-22T12:00:00.000Z", utc: "2026-11-22 12:00:00 UTC", ago: "5 min ago" });
    expect(line.details).toEqual([["factor", "mfa"], ["failedAttempts", "5"], ["nested", '{"a":[1]}']]);
  });
});
