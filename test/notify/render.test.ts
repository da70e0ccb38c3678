import { describe, expect, it } from "vitest";
import type { Effect } from "../../src/lockout/index.ts";
import {
  effectNotices, logTransport, renderMail, RESET_TOKEN_TTL_MS, UNLOCK_TOKEN_MAX_TTL_MS, type MailLinks,
} from "../../src/notify/index.ts";
import { issueLinks } from "../../src/notify/links.ts";
import { NOTICE_KINDS, type OutboxRow } from "../../src/store/index.ts";

const NOW = Date.parse("2026-11-22T12:00:00Z");
const HOUR = 3_600_000;
const LINKS: MailLinks = { unlockUrl: "https://id.example/unlock?token=U", resetUrl: "https://id.example/reset?token=R" };
const HOSTILE = "<img src=x onerror=alert(1)> & \"quoted\"";

function render(kind: (typeof NOTICE_KINDS)[number], payload: Record<string, unknown>, links: MailLinks = LINKS) {
  return renderMail({ kind, to: "user@example.com", payload, publicUrl: "https://id.example", links });
}

function row(kind: OutboxRow["kind"], payload: Record<string, unknown>): OutboxRow {
  return {
    id: 1, dedupe_key: "k", kind, user_id: "u1", to_email: "user@example.com", payload: JSON.stringify(payload),
    created_at: NOW, due_at: NOW, attempts: 1, last_error: null, status: "pending", claimed_until: null, claimed_by: null, sent_at: null,
  };
}

describe("mail templates", () => {
  it("every kind renders a subject, a text part and an accessible HTML part", () => {
    for (const kind of NOTICE_KINDS) {
      const mail = render(kind, { at: NOW, lockedUntil: NOW + HOUR, factor: "password", failedAttempts: 5, action: "locked" });
      expect(mail.subject.length, kind).toBeGreaterThan(10);
      expect(mail.text, kind).toContain("automatic security message");
      expect(mail.html, kind).toMatch(/^<!doctype html>\n<html lang="en">/);
      expect(mail.html, kind).toContain(`<title>${mail.subject}</title>`);
      expect(mail.html, kind).not.toMatch(/<script|style=/);
    }
  });

  it("escapes attacker-controlled values in HTML and leaves the text part literal", () => {
    const mail = render("lock_notice", { at: NOW, lockedUntil: NOW + HOUR, factor: "password", failedAttempts: 5, ip: "203.0.113.9", userAgent: HOSTILE });
    // The agent is shown in words (its first product token here, as it is no known browser).
    expect(mail.html).toContain("Browser and OS: &lt;img");
    expect(mail.html).not.toContain("<img");
    expect(mail.text).toContain("Browser and OS:  <img");
  });

  it("the lock notice states the end in UTC, the source, the links and what to do", () => {
    const mail = render("lock_notice", { at: NOW, lockedUntil: NOW + 15 * 60_000, factor: "password", failedAttempts: 5, ip: "203.0.113.9", userAgent: "curl/8" });
    expect(mail.subject).toBe("Your account is locked until 2026-11-22 12:15:00 UTC");
    expect(mail.text).toContain("IP address:      203.0.113.9");
    expect(mail.text).toContain("\nhttps://id.example/unlock?token=U\n");
    expect(mail.text).toContain("\nhttps://id.example/reset?token=R\n");
    expect(mail.text).toContain("If this was not you");
    const mfa = render("lock_notice", { at: NOW, lockedUntil: NOW + HOUR, factor: "mfa", failedAttempts: 5 });
    expect(mfa.text).toContain("someone knows your password");
    const ended = render("lock_notice", { at: NOW, lockedUntil: NOW + HOUR, factor: "password" }, { unlockUrl: null, resetUrl: "r" });
    expect(ended.text).toContain("The lock has already ended");
    expect(ended.text).not.toContain("/unlock");
  });

  it("a disabled notice never says locked; for 2FA failures it says the password is known", () => {
    const repeated = render("disabled_notice", { at: NOW, factor: "password", reason: "repeated_lockouts", lockoutCount: 3 }, { unlockUrl: null, resetUrl: null });
    expect(repeated.text).toContain("has been disabled after 3 lockouts in a row");
    expect(repeated.text).not.toContain("Someone entered your correct password");
    for (const mail of [repeated, render("disabled_notice", { at: NOW, factor: "mfa", reason: "mfa_failures", failedAttempts: 5 })]) {
      expect(mail.text).not.toMatch(/\block(ed)?\b/i);
    }
    const mfa = render("disabled_notice", { at: NOW, factor: "mfa", reason: "mfa_failures", failedAttempts: 5 });
    expect(mfa.text).toContain("Someone entered your correct password");
    expect(mfa.text).toContain("https://id.example/reset?token=R");
  });

  it("the log transport writes the whole text, links included, at info level", async () => {
    const lines: { level: string; object: object; message?: string }[] = [];
    const log = {
      info: (object: object, message?: string) => lines.push({ level: "info", object, message }),
      warn: (object: object, message?: string) => lines.push({ level: "warn", object, message }),
      error: (object: object, message?: string) => lines.push({ level: "error", object, message }),
    };
    const mail = render("password_reset", { at: NOW });
    await logTransport(log).send({ ...mail, from: "deadbolt@localhost", to: "user@example.com", messageId: "<m@x>" });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe("info");
    expect(lines[0]!.message).toContain("e-mail to user@example.com");
    expect(lines[0]!.message).toContain("https://id.example/reset?token=R");
  });
});

describe("links and notices", () => {
  const context = { now: NOW, publicUrl: "https://id.example", randomBytes: (n: number) => Buffer.alloc(n, 1) };

  it("an unlock token lasts until the lock ends, at most a day; a reset token one hour", () => {
    const short = issueLinks(row("lock_notice", { lockedUntil: NOW + HOUR }), { lockedUntil: NOW + HOUR }, context);
    expect(short.tokens.map((t) => [t.kind, t.expiresAt - NOW])).toEqual([["unlock", HOUR], ["reset", RESET_TOKEN_TTL_MS]]);
    expect(short.links.unlockUrl).toBe(`https://id.example/unlock?token=${Buffer.alloc(32, 1).toString("base64url")}`);
    expect(short.tokens[0]!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(short.links.unlockUrl).not.toContain(short.tokens[0]!.tokenHash);
    const long = issueLinks(row("lock_notice", {}), { lockedUntil: NOW + 72 * HOUR }, context);
    expect(long.tokens[0]!.expiresAt - NOW).toBe(UNLOCK_TOKEN_MAX_TTL_MS);
    const ended = issueLinks(row("lock_notice", {}), { lockedUntil: NOW }, context);
    expect(ended.links.unlockUrl).toBeNull();
    expect(issueLinks(row("admin_alert", {}), {}, context).tokens).toEqual([]);
    expect(issueLinks(row("disabled_notice", {}), { factor: "password" }, context).tokens).toEqual([]);
    expect(issueLinks(row("disabled_notice", {}), { factor: "mfa" }, context).tokens.map((t) => t.kind)).toEqual(["reset"]);
  });

  it("one lock episode has one dedupe key, whoever records it", () => {
    const locked: Effect = { type: "locked", factor: "password", failedAttempts: 5, lockedUntil: NOW + HOUR, lockoutCount: 1, insteadOfDisable: false };
    const subject = { id: "u1", email: "a@example.com" };
    const client = { ip: "203.0.113.9", userAgent: "x" };
    const first = effectNotices(subject, [locked], { client, now: NOW, warnBeforeLock: false, otherAdmins: [] });
    const second = effectNotices(subject, [locked], { client: { ip: null, userAgent: null }, now: NOW + 5, warnBeforeLock: false, otherAdmins: [] });
    expect(first.map((n) => n.dedupeKey)).toEqual(second.map((n) => n.dedupeKey));
    expect(JSON.stringify(first)).not.toMatch(/token/i);
    const near: Effect = { type: "near_threshold", factor: "password", attemptsRemaining: 1 };
    expect(effectNotices(subject, [near], { client, now: NOW, warnBeforeLock: false, otherAdmins: [] })).toEqual([]);
    expect(effectNotices(subject, [near], { client, now: NOW, warnBeforeLock: true, otherAdmins: [] }).map((n) => n.kind)).toEqual(["lock_warning"]);
  });
});
