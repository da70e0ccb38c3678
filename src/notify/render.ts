import { fileURLToPath } from "node:url";
import { Eta } from "eta";
import type { NoticeKind } from "../store/index.ts";
import { utcText } from "../time.ts";
import { describeUserAgent } from "../user-agent.ts";

const TEMPLATES_DIR = fileURLToPath(new URL("./templates/", import.meta.url));

// HTML parts escape every value; text parts must not (an "&" in a user agent stays "&").
const html = new Eta({ views: TEMPLATES_DIR, cache: true, autoEscape: true });
const text = new Eta({ views: TEMPLATES_DIR, cache: true, autoEscape: false, autoTrim: false });

/** The links a mail carries; the tokens in them were created just before sending. */
export interface MailLinks {
  readonly unlockUrl: string | null;
  readonly resetUrl: string | null;
  /** An invitation's single-use set-password link. */
  readonly setPasswordUrl?: string | null;
}

export interface RenderInput {
  readonly kind: NoticeKind;
  readonly to: string;
  /** The outbox payload (facts only). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly publicUrl: string;
  readonly links: MailLinks;
  /** DEADBOLT_APP_NAME: who the mail is from, in words. */
  readonly appName?: string;
}

export interface RenderedMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** 2026-11-22 15:04:05 UTC: the format of every page (src/time.ts). */
export function utc(ms: number): string {
  return utcText(ms);
}

function field(payload: Readonly<Record<string, unknown>>, name: string): string | null {
  const value = payload[name];
  return typeof value === "string" && value !== "" ? value : null;
}

function count(payload: Readonly<Record<string, unknown>>, name: string): number {
  const value = payload[name];
  return typeof value === "number" ? value : 0;
}

function time(payload: Readonly<Record<string, unknown>>, name: string): string {
  const value = payload[name];
  return typeof value === "number" ? utc(value) : "unknown";
}

function byWords(by: string | null, actorEmail: string | null): string {
  if (by === "user") return "by you (signed in)";
  if (by === "token") return "with a password-reset link mailed to you";
  if (by === "cli") return "by an administrator from the command line";
  return actorEmail === null ? "by an administrator" : `by the administrator ${actorEmail}`;
}

/** The author as the subject of a sentence: "The administrator ann@example.com". */
function whoWords(by: string | null, actorEmail: string | null): string {
  if (by === "cli") return "An administrator (from the command line)";
  return actorEmail === null ? "An administrator" : `The administrator ${actorEmail}`;
}

function disabledWhy(payload: Readonly<Record<string, unknown>>): string {
  const reason = field(payload, "reason");
  if (reason === "mfa_failures") return `after ${count(payload, "failedAttempts")} failed two-step verification attempts`;
  if (reason === "repeated_lockouts") return `after ${count(payload, "lockoutCount")} lockouts in a row`;
  return "";
}

/** Everything a template may show, derived once from the payload. */
function viewOf(input: RenderInput): Record<string, unknown> {
  const { payload, publicUrl } = input;
  const factor = field(payload, "factor") ?? "password";
  const action = field(payload, "action");
  const lockedUntil = time(payload, "lockedUntil");
  return {
    to: input.to,
    appName: input.appName ?? "deadbolt",
    publicUrl,
    at: time(payload, "at"),
    ip: field(payload, "ip") ?? "unknown",
    userAgent: field(payload, "userAgent") ?? "unknown",
    // Browser and OS in words ("Firefox 133 on Windows 10"), as pages and events show them.
    device: describeUserAgent(field(payload, "userAgent")),
    remaining: count(payload, "remaining"),
    by: field(payload, "by"),
    factor,
    factorWords: factor === "mfa" ? "two-step verification" : "password",
    failedAttempts: count(payload, "failedAttempts"),
    lockedUntil,
    action,
    byWords: byWords(field(payload, "by"), field(payload, "actorEmail")),
    whoWords: whoWords(field(payload, "by"), field(payload, "actorEmail")),
    disabledWhy: disabledWhy(payload),
    subjectEmail: field(payload, "subjectEmail") ?? "unknown",
    alertWhat: action === "disabled" ? `was disabled (${field(payload, "reason") ?? "unknown"})` : `is locked until ${lockedUntil}`,
    unlockUrl: input.links.unlockUrl,
    resetUrl: input.links.resetUrl,
    setPasswordUrl: input.links.setPasswordUrl ?? null,
    role: field(payload, "role") ?? "user",
    forgotUrl: `${publicUrl}/forgot`,
    signInUrl: `${publicUrl}/login`,
    adminUrl: `${publicUrl}/admin`,
  };
}

function subjectOf(kind: NoticeKind, view: Record<string, unknown>): string {
  switch (kind) {
    case "lock_notice": return `Your account is locked until ${String(view.lockedUntil)}`;
    case "lock_warning": return "One more failed sign-in attempt will lock your account";
    case "disabled_notice": return "Your account has been disabled";
    case "account_restored": return `Your account was ${String(view.action)}`;
    case "password_reset": return "Reset your password";
    case "admin_alert": return `Admin account ${String(view.subjectEmail)} ${String(view.alertWhat)}`;
    case "new_device_sign_in": return `New sign-in to your account from ${String(view.device)}`;
    case "password_changed": return `Your password was ${String(view.action)}`;
    case "mfa_changed": return view.action === "recovery_codes"
      ? "New recovery codes were made for your account"
      : `Two-step verification was turned ${String(view.action)}`;
    case "recovery_code_used": return `A recovery code was used to sign in (${String(view.remaining)} left)`;
    case "invitation": return `You are invited to ${String(view.appName)}: set your password`;
  }
}

/**
 * Renders one notice into a subject and text and HTML parts, from the templates in
 * `templates/<kind>.text.eta` and `.html.eta`.
 *
 * @example renderMail({ kind: "password_reset", to, payload, publicUrl, links })
 */
export function renderMail(input: RenderInput): RenderedMail {
  const view = viewOf(input);
  const subject = subjectOf(input.kind, view);
  const name = input.kind.replace(/_/g, "-");
  return {
    subject,
    text: text.render(`${name}.text.eta`, { ...view, subject }),
    html: html.render(`${name}.html.eta`, { ...view, subject }),
  };
}
