/**
 * What text a client may send, decided once for every route, page and command (issue 8).
 *
 * PostgreSQL refuses a NUL in a text value (SQLite stores it), so the same request answered
 * 500 on one database and 200 on the other. No e-mail, name, note, search term, token, cursor
 * or id has a use for control characters either, so they are refused at the boundary, the
 * same way on both dialects. Passwords are the exception: they are hashed, never stored or
 * queried, so they are accepted as given (a NUL in one is simply part of the secret).
 */

/**
 * The characters no stored or looked-up text may hold, as the body of a regular-expression
 * class (for JSON Schema `pattern`, which Ajv compiles with the `u` flag): C0 controls (NUL
 * included), DEL, C1 controls, the line and paragraph separators, the bidirectional overrides
 * and isolates (they make an address in the console or a mail read as another: "Trojan
 * Source"), and lone UTF-16 surrogates (no database can store one as it is).
 */
export const CONTROL_CLASS = "\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069\\uD800-\\uDFFF";

/** One line of text: no control character at all. */
export const SINGLE_LINE_PATTERN = `^[^${CONTROL_CLASS}]*$`;

/** Free text such as an admin's note: tab, line feed and carriage return are allowed, nothing else. */
export const MULTI_LINE_PATTERN = `^(?:[\\t\\n\\r]|[^${CONTROL_CLASS}])*$`;

/**
 * An e-mail address as a client may type it (surrounding whitespace is trimmed later): one @,
 * no whitespace or control character inside. The store and the mailer decide nothing more.
 */
export const EMAIL_INPUT_PATTERN = `^\\s*[^\\s@${CONTROL_CLASS}]+@[^\\s@${CONTROL_CLASS}]+\\s*$`;

const SINGLE_LINE = new RegExp(SINGLE_LINE_PATTERN, "u");
const MULTI_LINE = new RegExp(MULTI_LINE_PATTERN, "u");
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

/** The longest e-mail address (RFC 5321 path limit), for every e-mail field. */
export const EMAIL_MAX_LENGTH = 254;
/** The longest password accepted anywhere (login or new): argon2 hashes it, so it is bounded. */
export const PASSWORD_MAX_LENGTH = 1024;
/** Ids of users, devices and clients this server made are UUIDs or shorter; longer is not one. */
export const ID_MAX_LENGTH = 100;

/** True when `value` is one line of text without control characters (see CONTROL_CLASS). */
export function isSingleLine(value: string): boolean {
  return SINGLE_LINE.test(value);
}

/** True when `value` has no control characters other than tab, line feed and carriage return. */
export function isMultiLine(value: string): boolean {
  return MULTI_LINE.test(value);
}

/**
 * Text a client sent in a header (User-Agent) or that came from outside otherwise, made safe
 * to store and show: control characters become spaces, lone surrogates U+FFFD, at most
 * `maxLength` characters. Headers are not refused (a request with an odd agent still signs in).
 */
export function cleanHeaderText(value: string, maxLength: number): string {
  return value.replace(CONTROLS, " ").toWellFormed().slice(0, maxLength).toWellFormed();
}

/**
 * The last line of defence in the store: a NUL (which PostgreSQL refuses in text) becomes
 * U+FFFD on both dialects, so text that got past the boundary is still stored and compared the
 * same way everywhere, and never turns a request into a 500.
 */
export function withoutNul(value: string): string {
  return value.includes("\u0000") ? value.replaceAll("\u0000", "\uFFFD") : value;
}
