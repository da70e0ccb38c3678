import type { Kysely } from "kysely";
import type { Dialect } from "./dialect.ts";
import { insertEvents, type SecurityEvent } from "./events.ts";
import type { Schema } from "./schema.ts";
import { newUserValues, type NewUser } from "./users.ts";

type Db = Kysely<Schema>;

/**
 * Rows per statement. SQLite allows 32,766 bound values and PostgreSQL 65,535; a user row
 * binds about 25, an event 8. Larger batches gain little once the statement overhead is gone.
 */
const USER_BATCH = { sqlite: 400, postgres: 1000 } as const;
const EMAIL_BATCH = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Which of `emails` (already normalised) belong to a user. */
export async function existingEmails(db: Db, emails: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of chunks(emails, EMAIL_BATCH)) {
    const rows = await db.selectFrom("users").select("email").where("email", "in", batch).execute();
    for (const row of rows) found.add(row.email);
  }
  return found;
}

/**
 * Inserts users in a few large statements, skipping e-mails that exist (also those created by
 * a concurrent request meanwhile: ON CONFLICT), and the events `eventsFor` builds for the inserted ones.
 * Call inside a transaction so the file is imported whole or not at all.
 */
export async function insertUsersSkippingExisting(
  db: Db, dialect: Dialect, users: readonly NewUser[], eventsFor: (inserted: readonly NewUser[]) => SecurityEvent[],
): Promise<NewUser[]> {
  // Most lines of a re-run exist already: one indexed read per thousand is cheaper than inserting them.
  const existing = await existingEmails(db, users.map((user) => user.email));
  const fresh = users.filter((user) => !existing.has(user.email));
  const byId = new Map(fresh.map((user) => [user.id, user]));
  const inserted: NewUser[] = [];
  for (const batch of chunks(fresh, USER_BATCH[dialect])) {
    const rows = await db.insertInto("users").values(batch.map(newUserValues))
      .onConflict((oc) => oc.column("email").doNothing())
      .returning("id").execute();
    const added = rows.map((row) => byId.get(row.id)).filter((user): user is NewUser => user !== undefined);
    inserted.push(...added);
    const events = eventsFor(added);
    for (const part of chunks(events, USER_BATCH[dialect])) await insertEvents(db, part);
  }
  return inserted;
}
