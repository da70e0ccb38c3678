import type { Role } from "../lockout/index.ts";
import { normalizeEmail } from "../store/index.ts";
import { isValidEmail } from "./accounts.ts";
import { hashKind } from "./password.ts";

/** One valid line of an import file (SPEC "Import"). */
export interface ImportedUser {
  /** 1-based line of the file, for messages. */
  readonly line: number;
  readonly email: string;
  /** An argon2id/argon2i PHC string or a bcrypt hash; null: the user must reset the password. */
  readonly passwordHash: string | null;
  readonly role: Role;
  /** Epoch milliseconds, or null for "now". */
  readonly createdAt: number | null;
}

export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

export type ParsedImport =
  | { readonly ok: true; readonly users: readonly ImportedUser[] }
  | { readonly ok: false; readonly problems: readonly ImportProblem[]; readonly invalid: number };

const FIELDS: ReadonlySet<string> = new Set(["email", "passwordHash", "role", "createdAt"]);
/** Problems listed in full; the count of invalid lines is always exact. */
export const MAX_PROBLEMS_LISTED = 100;
const MAX_LINE_CHARS = 4096;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** Dates outside these years are typos (a lock or a report would read nonsense). */
const EARLIEST = Date.parse("1970-01-01T00:00:00Z");
const LATEST = Date.parse("2200-01-01T00:00:00Z");

type LineResult = { readonly user: Omit<ImportedUser, "line"> } | { readonly problem: string };

function parseCreatedAt(value: unknown): number | null | string {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || !ISO_8601.test(value)) return "createdAt must be an ISO 8601 date string such as 2024-05-01T12:00:00Z";
  const at = Date.parse(value);
  if (Number.isNaN(at) || at < EARLIEST || at > LATEST) return `createdAt ${JSON.stringify(value)} is not a plausible date`;
  return at;
}

function parseLine(text: string): LineResult {
  if (text.length > MAX_LINE_CHARS) return { problem: `line longer than ${MAX_LINE_CHARS} characters` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: "not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "not a JSON object" };
  const record = value as Record<string, unknown>;
  if ("password" in record) return { problem: "plain-text passwords are not imported: give passwordHash, or omit it so the user resets" };
  const unknown = Object.keys(record).find((key) => !FIELDS.has(key));
  if (unknown !== undefined) return { problem: `unknown field ${JSON.stringify(unknown.slice(0, 50))} (allowed: email, passwordHash, role, createdAt)` };
  if (typeof record.email !== "string") return { problem: "email is missing or not a string" };
  const email = normalizeEmail(record.email);
  if (!isValidEmail(email)) return { problem: `email ${JSON.stringify(email.slice(0, 254))} is not a valid e-mail address` };
  const hash = record.passwordHash;
  if (hash !== undefined && hash !== null && (typeof hash !== "string" || hashKind(hash) === null)) {
    return { problem: "passwordHash is not an argon2id/argon2i PHC string or a bcrypt ($2a$, $2b$, $2y$) hash" };
  }
  const role = record.role ?? "user";
  if (role !== "user" && role !== "admin") return { problem: 'role must be "user" or "admin"' };
  const createdAt = parseCreatedAt(record.createdAt);
  if (typeof createdAt === "string") return { problem: createdAt };
  return { user: { email, passwordHash: typeof hash === "string" ? hash : null, role, createdAt } };
}

/**
 * Validates a whole JSON-lines file: every line, or none. Blank lines are ignored; an e-mail
 * given twice in the file is a problem on its second line. Pure: no database, no hashing.
 *
 * @example const parsed = parseImportFile('{"email":"a@example.com","passwordHash":"$2b$10$…"}\n');
 */
export function parseImportFile(text: string): ParsedImport {
  const users: ImportedUser[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Map<string, number>();
  let invalid = 0;
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const line = index + 1;
    const content = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (content.trim() === "") return;
    const result = parseLine(line === 1 ? content.replace(/^\uFEFF/, "") : content);
    let problem = "problem" in result ? result.problem : null;
    if ("user" in result) {
      const first = seen.get(result.user.email);
      if (first !== undefined) problem = `${result.user.email} already appears on line ${first}`;
      else {
        seen.set(result.user.email, line);
        users.push({ line, ...result.user });
      }
    }
    if (problem !== null) {
      invalid++;
      if (problems.length < MAX_PROBLEMS_LISTED) problems.push({ line, message: problem });
    }
  });
  return invalid === 0 ? { ok: true, users } : { ok: false, problems, invalid };
}
