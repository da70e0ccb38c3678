/**
 * Which errors mean "the database cannot be reached or used right now": the request then fails
 * closed with 503 (and the mail dispatcher retries soon) instead of looking like a bug (500).
 *
 * Classified by what the drivers put on their errors, never by one sentence: the SQLSTATE of a
 * PostgreSQL error, the errno code of a socket error, the SQLite result code; the few pg and
 * pg-pool errors that carry no code are matched by their exact wording, listed below. Causes
 * (`error.cause`) and the parts of an AggregateError (a connect that tried both ::1 and
 * 127.0.0.1) are looked through.
 */

/** Node's socket and resolver errno codes: the server is not there, or went away. */
const SOCKET_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH",
  "ENETDOWN", "ENOTFOUND", "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that is going away, overloaded or not (yet) usable: class 08 (connection
 * exception), class 53 (insufficient resources: 53300 too many connections, 53100 disk full),
 * 57P01–57P05 (admin or crash shutdown, cannot connect now, database dropped, idle session
 * timeout), class 28 (credentials refused: a rotated password) and 3D000 (no such database:
 * dropped, or not restored yet). Never a data error (22…), a constraint (23…) or a bug (42…).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53|28)[0-9A-Z]{3}$/.test(code) || /^57P0[1-5]$/.test(code) || code === "3D000";
}

/** SQLite primary result codes of a file that cannot be used now (extended codes start with these). */
const SQLITE_UNAVAILABLE = ["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL",
  "SQLITE_READONLY", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_PROTOCOL", "SQLITE_NOMEM"] as const;

function isUnavailableSqliteCode(code: string): boolean {
  return SQLITE_UNAVAILABLE.some((prefix) => code === prefix || code.startsWith(`${prefix}_`));
}

/**
 * Errors the drivers raise without a code, by their exact text: pg's Client (a query on a
 * connection that failed, ended or timed out), pg-pool (connect timeout, ended pool), Kysely (a
 * destroyed instance), better-sqlite3 (a closed file), and our own ping.
 */
const DRIVER_SENTENCES: readonly RegExp[] = [
  /^Connection terminated( unexpectedly| due to connection timeout)?$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Query read timeout$/,
  /^timeout expired$/,
  /^timeout exceeded when trying to connect$/,
  /^Cannot use a pool after calling end on the pool$/,
  /^driver has already been destroyed$/,
  /^The database connection is not open$/,
];

const MAX_DEPTH = 4;

function classify(error: unknown, depth: number): boolean {
  if (typeof error !== "object" || error === null || depth > MAX_DEPTH) return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") {
    // Checked first: "EPIPE" is also five characters, like a SQLSTATE.
    if (code === "database_unavailable" || SOCKET_CODES.has(code)) return true;
    if (code.startsWith("SQLITE_")) return isUnavailableSqliteCode(code);
    if (/^[0-9A-Z]{5}$/.test(code)) return isUnavailableSqlState(code);
  }
  if (typeof message === "string" && DRIVER_SENTENCES.some((sentence) => sentence.test(message))) return true;
  if (classify(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((part) => classify(part, depth + 1));
}

/**
 * True when `error` means the database is unreachable or unusable for now (fail closed, 503).
 *
 * @example if (isDatabaseUnavailable(error)) return reply.code(503).send(errorBody("service_unavailable"));
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return classify(error, 0);
}
