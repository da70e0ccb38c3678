/**
 * What the console shows, as plain values for the templates: badges, times, notices, links.
 * Pure functions, so the wording is tested without a server.
 */
import type { DeviceView, UserView } from "../auth/index.ts";
import type { StoredEvent } from "../store/index.ts";
import { isoTime, timeView, utcText, type TimeView } from "../time.ts";
import { describeUserAgent } from "../user-agent.ts";

export type Tone = "active" | "locked" | "disabled" | "neutral";

export interface Badge {
  readonly tone: Tone;
  readonly text: string;
}

export type UserAction = "unlock" | "enable" | "disable" | "send-reset" | "reset-mfa" | "role" | "delete";

export interface ActionButton {
  readonly action: UserAction;
  readonly label: string;
  /** A button class from app.css. */
  readonly style: "primary" | "secondary" | "danger";
  /** Destructive actions open a confirmation page (a link) instead of posting at once. */
  readonly confirm: boolean;
  /** For `role`: the role the button gives. */
  readonly role?: "admin" | "user";
}

export interface Notice {
  readonly tone: "ok" | "error";
  readonly text: string;
}

const DISABLED_WORDS: Readonly<Record<NonNullable<UserView["disabledReason"]>, string>> = {
  admin: "by an admin",
  mfa_failures: "too many failed 2FA codes",
  repeated_lockouts: "repeated lockouts",
};

const BUTTONS = {
  unlock: { action: "unlock", label: "Unlock", style: "primary", confirm: false },
  enable: { action: "enable", label: "Enable", style: "primary", confirm: false },
  // Never a one-click red button beside Unlock: it leads to a page that asks for a note.
  disable: { action: "disable", label: "Disable…", style: "secondary", confirm: true },
  sendReset: { action: "send-reset", label: "Send password reset link", style: "secondary", confirm: false },
  resetMfa: { action: "reset-mfa", label: "Reset 2FA…", style: "secondary", confirm: true },
  makeAdmin: { action: "role", label: "Make admin", style: "secondary", confirm: false, role: "admin" },
  makeUser: { action: "role", label: "Make plain user", style: "secondary", confirm: false, role: "user" },
  delete: { action: "delete", label: "Delete…", style: "secondary", confirm: true },
} as const satisfies Readonly<Record<string, ActionButton>>;

/** "2026-11-22 15:04:05 UTC", or "never" for no time (the one format: src/time.ts). */
export function utc(time: string | number | null): string {
  if (time === null) return "never";
  return utcText(typeof time === "string" ? Date.parse(time) : time);
}

export function disabledReasonWords(reason: UserView["disabledReason"]): string {
  return reason === null ? "" : DISABLED_WORDS[reason];
}

/**
 * The status badge: "Locked until 2026-11-22 15:04:05 UTC (2FA)", "Disabled (repeated
 * lockouts)" or "Active". A disable is never called a lock. With device trust a password lock
 * stops only untrusted clients, and says so: "Locked for new devices until … (password)".
 */
export function statusBadge(user: UserView, options: { deviceTrust?: boolean } = {}): Badge {
  if (user.status === "disabled") return { tone: "disabled", text: `Disabled (${disabledReasonWords(user.disabledReason)})` };
  if (user.status === "locked") {
    const factor = user.lockReason === "mfa" ? "2FA" : "password";
    const what = options.deviceTrust && factor === "password" ? "Locked for new devices" : "Locked";
    return { tone: "locked", text: `${what} until ${utc(user.lockedUntil)} (${factor})` };
  }
  return { tone: "active", text: "Active" };
}

/** The buttons of a row of the users table; an admin is never offered to disable itself. */
export function actionsFor(user: UserView, viewerId: string): ActionButton[] {
  if (user.status === "disabled") return [BUTTONS.enable];
  const actions: ActionButton[] = user.status === "locked" ? [BUTTONS.unlock] : [];
  if (user.id !== viewerId) actions.push(BUTTONS.disable);
  return actions;
}

/** Every action of a user's page: the row's, then reset link, 2FA, role and delete. */
export function pageActionsFor(user: UserView, viewerId: string): ActionButton[] {
  const self = user.id === viewerId;
  const actions: ActionButton[] = user.status === "disabled" ? [BUTTONS.enable] : user.status === "locked" ? [BUTTONS.unlock] : [];
  actions.push(BUTTONS.sendReset);
  if (user.mfaEnabled) actions.push(BUTTONS.resetMfa);
  if (!self) actions.push(user.role === "admin" ? BUTTONS.makeUser : BUTTONS.makeAdmin);
  if (!self && user.status !== "disabled") actions.push(BUTTONS.disable);
  if (!self) actions.push(BUTTONS.delete);
  return actions;
}

const DONE_WORDS: Readonly<Record<string, string>> = {
  unlocked: "was unlocked; its failure counters start again from zero.",
  enabled: "was enabled.",
  disabled: "was disabled and its sessions were ended.",
  invited: "was created and is being mailed a link to choose a password (it works for 7 days).",
  "reset-sent": "is being mailed a password reset link (it works for one hour).",
  "mfa-reset": "no longer has two-step verification: recovery codes deleted, sessions ended, and the user is being mailed.",
  "made-admin": "is now an admin.",
  "made-user": "is now a plain user.",
  deleted: "was deleted. Its events stay in the log.",
  "devices-forgotten": "no longer has trusted devices: each browser signs in as a new device next time.",
};
const ERROR_WORDS: Readonly<Record<string, string>> = {
  last_admin: "is the last active admin, so it cannot be disabled. Make another admin first.",
  cannot_disable_self: "is your own account: an admin cannot disable itself. Ask another admin.",
  cannot_delete_self: "is your own account: an admin cannot delete itself. Ask another admin.",
  cannot_change_own_role: "is your own account: an admin cannot change its own role. Ask another admin.",
  not_found: "no longer exists.",
  email_taken: "already has an account.",
  invalid_email: "is not a valid e-mail address.",
  note_too_long: "was not disabled: the note is longer than 500 characters.",
};

/** The notice an action leaves in the query string (`?done=unlocked&email=…`), or null. */
export function noticeOf(query: Readonly<Record<string, unknown>>): Notice | null {
  const email = typeof query.email === "string" && /^[^\s@]{1,64}@[^\s@]{1,190}$/.test(query.email) ? query.email : "The user";
  const done = typeof query.done === "string" ? DONE_WORDS[query.done] : undefined;
  if (done !== undefined) return { tone: "ok", text: `${email} ${done}` };
  const error = typeof query.error === "string" ? ERROR_WORDS[query.error] : undefined;
  if (error !== undefined) return { tone: "error", text: `Not done: ${email} ${error}` };
  return null;
}

/** `path` with the non-empty parameters as a query string. */
export function withParams(path: string, params: Readonly<Record<string, string | undefined>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text === "" ? path : `${path}?${text}`;
}

const NOTICE_PARAMS = ["done", "error", "email"] as const;

/**
 * Where an action form returns to: a console path (with its filters) from the form, never
 * another site or page, with any earlier notice removed.
 */
export function safeBack(back: unknown, fallback: string): string {
  if (typeof back !== "string" || !back.startsWith("/admin") || back.length > 2000) return fallback;
  const base = "http://console.invalid";
  let url: URL;
  try {
    url = new URL(back, base);
  } catch {
    return fallback;
  }
  if (url.origin !== base || !/^\/admin(\/|$)/.test(url.pathname)) return fallback;
  for (const name of NOTICE_PARAMS) url.searchParams.delete(name);
  return url.pathname + url.search;
}

/** `back` with the outcome of an action added. */
export function withNotice(back: string, notice: { done?: string; error?: string; email: string }): string {
  const url = new URL(back, "http://console.invalid");
  if (notice.done !== undefined) url.searchParams.set("done", notice.done);
  if (notice.error !== undefined) url.searchParams.set("error", notice.error);
  if (notice.email !== "") url.searchParams.set("email", notice.email);
  return url.pathname + url.search;
}

export function eventTone(type: string): Tone {
  if (type === "login.failed" || type === "account.locked" || type === "notification.failed") return "locked";
  if (type === "account.disabled") return "disabled";
  if (type === "login.succeeded" || type === "account.unlocked" || type === "account.enabled" || type === "mfa.enabled") return "active";
  return "neutral";
}

export interface EventLine {
  readonly id: number;
  readonly type: string;
  readonly tone: Tone;
  readonly at: string;
  readonly atIso: string;
  readonly time: TimeView;
  readonly userId: string | null;
  readonly email: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The user agent in words ("Chrome 131 on Linux"); the raw string stays on demand. */
  readonly client: string | null;
  readonly message: string;
  readonly details: ReadonlyArray<readonly [string, string]>;
}

function detailText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? String(value);
}

/** An event as one row of a log or a timeline; details become name/value pairs. */
export function eventLine(event: StoredEvent, now: number): EventLine {
  return {
    id: event.id,
    type: event.type,
    tone: eventTone(event.type),
    at: utc(event.at),
    atIso: isoTime(event.at),
    time: timeView(event.at, now) ?? { iso: "", utc: "", ago: "" },
    userId: event.userId,
    email: event.email,
    ip: event.ip,
    userAgent: event.userAgent,
    client: event.userAgent ? describeUserAgent(event.userAgent) : null,
    message: event.message,
    details: Object.entries(event.details).map(([name, value]) => [name, detailText(value)] as const),
  };
}

/** A query-string value as a trimmed string, or "" when absent or repeated. */
export function param(query: unknown, name: string): string {
  const value = (query as Record<string, unknown> | null)?.[name];
  return typeof value === "string" ? value.trim().slice(0, 300) : "";
}

export interface DeviceLine {
  readonly id: string;
  /** "Firefox 133 on Windows 10" */
  readonly name: string;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly lastUsed: TimeView | null;
  readonly since: TimeView | null;
}

/** A trusted device as the user's page in the console lists it. */
export function deviceLine(device: DeviceView, now: number): DeviceLine {
  return {
    id: device.id, name: describeUserAgent(device.userAgent), userAgent: device.userAgent, ip: device.ip,
    lastUsed: timeView(device.lastUsedAt, now), since: timeView(device.createdAt, now),
  };
}
