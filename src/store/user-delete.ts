import { sql, type Kysely } from "kysely";
import type { Dialect } from "./dialect.ts";
import { insertEvents, type SecurityEvent } from "./events.ts";
import type { Schema } from "./schema.ts";
import type { UserRow } from "./users.ts";

/** Advisory lock key taken by every write that may leave no active admin ("dbltadm"). */
export const LAST_ADMIN_LOCK = 0x64626c7461646dn;

export type DeleteOutcome = "deleted" | "not_found" | "last_admin";

/**
 * Deletes a user and, in the same transaction, records `event` (events have no foreign key,
 * so the history keeps the e-mail). Sessions, challenges, recovery codes, tokens and queued
 * mails go with the row (ON DELETE CASCADE). An active admin is deleted only while another
 * active admin exists: one conditional DELETE, serialised on PostgreSQL by the same advisory
 * lock as admin disables, so two admins deleting each other cannot both succeed.
 */
export async function deleteUserRow(
  db: Kysely<Schema>, dialect: Dialect, user: UserRow, event: (row: UserRow) => SecurityEvent,
): Promise<DeleteOutcome> {
  return db.transaction().execute(async (trx) => {
    if (dialect === "postgres") await sql`SELECT pg_advisory_xact_lock(${LAST_ADMIN_LOCK})`.execute(trx);
    const deleted = await trx.deleteFrom("users")
      .where("id", "=", user.id)
      .where((eb) => eb.or([
        eb("role", "<>", "admin"),
        eb("disabled_reason", "is not", null),
        eb.exists(eb.selectFrom("users as other").select("other.id")
          .where("other.role", "=", "admin").where("other.disabled_reason", "is", null).where("other.id", "<>", user.id)),
      ]))
      .returningAll()
      .executeTakeFirst();
    if (!deleted) {
      const still = await trx.selectFrom("users").select("id").where("id", "=", user.id).executeTakeFirst();
      return still ? "last_admin" : "not_found";
    }
    await insertEvents(trx, [event(deleted)]);
    return "deleted";
  });
}
