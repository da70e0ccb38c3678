import type { EventView, UserView } from "../auth/index.ts";

/**
 * Text for a terminal: control characters (an attacker chooses the e-mail of a failed login
 * and its user agent) are shown escaped instead of being interpreted by the terminal.
 */
export function printable(text: string | null): string {
  if (text === null || text === "") return "-";
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** ISO 8601 without milliseconds: what an operator reads and compares. */
export function shortTime(iso: string | null): string {
  return iso === null ? "-" : iso.replace(/\.\d{3}Z$/, "Z");
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].map((text) => `${text}\n`).join("");
}

function lockOrReason(user: UserView): string {
  if (user.status === "disabled") return `disabled: ${user.disabledReason ?? "unknown"}`;
  if (user.status === "locked") return `${shortTime(user.lockedUntil)} (${user.lockReason ?? "password"})`;
  return "-";
}

export function userTable(users: readonly UserView[]): string {
  return table(
    ["E-MAIL", "ROLE", "STATUS", "LOCKED UNTIL / REASON", "FAILED PW", "FAILED 2FA", "LOCKOUTS"],
    users.map((user) => [
      printable(user.email), user.role, user.status, lockOrReason(user),
      String(user.failedPasswordAttempts), String(user.failedMfaAttempts), String(user.lockoutCount),
    ]),
  );
}

export function userDetails(user: UserView): string {
  const lastFailed = user.lastFailedAt === null
    ? "never"
    : `${shortTime(user.lastFailedAt)}${user.lastFailedIp === null ? "" : ` from ${printable(user.lastFailedIp)}`}`;
  const rows: [string, string][] = [
    ["e-mail", printable(user.email)],
    ["id", user.id],
    ["role", user.role],
    ["status", user.status],
    ["locked until", user.status === "locked" ? `${shortTime(user.lockedUntil)} (${user.lockReason ?? "password"})` : "-"],
    ["disabled reason", user.disabledReason ?? "-"],
    ["failed passwords", String(user.failedPasswordAttempts)],
    ["failed 2FA codes", String(user.failedMfaAttempts)],
    ["consecutive locks", String(user.lockoutCount)],
    ["last failure", lastFailed],
    ["last login", user.lastLoginAt === null ? "never" : shortTime(user.lastLoginAt)],
    ["2FA", user.mfaEnabled ? "enabled" : "off"],
    ["trusted devices", String(user.trustedDevices)],
    ["created", shortTime(user.createdAt)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}\n`).join("");
}

export function eventTable(events: readonly EventView[]): string {
  return table(
    ["AT", "TYPE", "E-MAIL", "IP", "MESSAGE"],
    events.map((event) => [
      shortTime(event.at), event.type, printable(event.email), printable(event.ip), printable(event.message),
    ]),
  );
}
