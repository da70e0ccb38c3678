import { randomUUID } from "node:crypto";
import { existingEmails, insertUsersSkippingExisting, type NewUser, type SecurityEvent } from "../store/index.ts";
import type { Actor } from "./accounts.ts";
import type { AuthContext } from "./context.ts";
import { parseImportFile, type ImportProblem } from "./import-file.ts";

export interface ImportCounts {
  readonly imported: number;
  /** Lines whose e-mail already belongs to a user (left as they are). */
  readonly skipped: number;
  readonly invalid: number;
}

export type ImportResult =
  | ({ readonly ok: true; readonly dryRun: boolean } & ImportCounts)
  | ({ readonly ok: false; readonly problems: readonly ImportProblem[] } & ImportCounts);

export interface ImportOptions {
  /** Only validate and count; nothing is written. */
  readonly dryRun: boolean;
  readonly actor: Actor;
}

function actorWords(actor: Actor): string {
  return actor.by === "admin" ? `by admin ${actor.email ?? "(unknown)"}` : "from the command line";
}

/**
 * Imports a JSON-lines file of users (SPEC "Import"): all lines valid or nothing written,
 * existing e-mails skipped, given hashes stored as they are (no hashing: 100,000 users take
 * seconds), one `user.created` event per imported user, in the same transaction.
 *
 * @example const result = await importUsers(ctx, text, { dryRun: false, actor: CLI_ACTOR });
 */
export async function importUsers(ctx: AuthContext, text: string, options: ImportOptions): Promise<ImportResult> {
  const parsed = parseImportFile(text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems, imported: 0, skipped: 0, invalid: parsed.invalid };
  const now = ctx.now();
  if (options.dryRun) {
    const existing = await existingEmails(ctx.database.db, parsed.users.map((user) => user.email));
    return { ok: true, dryRun: true, imported: parsed.users.length - existing.size, skipped: existing.size, invalid: 0 };
  }
  const users: NewUser[] = parsed.users.map((user) => ({
    id: randomUUID(),
    email: user.email,
    // No hash: nothing verifies against an empty string, so the user sets a password by reset.
    passwordHash: user.passwordHash ?? "",
    role: user.role,
    now: user.createdAt ?? now,
  }));
  const { actor } = options;
  const by = actor.email === undefined ? { by: actor.by } : { by: actor.by, actor: actor.email };
  const eventsFor = (inserted: readonly NewUser[]): SecurityEvent[] => inserted.map((user) => ({
    type: "user.created", at: now, userId: user.id, email: user.email, ip: actor.client.ip, userAgent: actor.client.userAgent,
    message: `${user.role} account imported ${actorWords(actor)}`,
    details: { role: user.role, via: "import", ...by },
  }));
  const inserted = await ctx.database.db.transaction().execute((trx) =>
    insertUsersSkippingExisting(trx, ctx.database.dialect, users, eventsFor));
  // One log line for the file, not one per user (the events are in the database).
  ctx.log.info({ imported: inserted.length, skipped: users.length - inserted.length, ...by }, `imported ${inserted.length} users`);
  return { ok: true, dryRun: false, imported: inserted.length, skipped: users.length - inserted.length, invalid: 0 };
}
