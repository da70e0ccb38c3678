import type { Kysely } from "kysely";
import { sql } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The console's "locked now" count from the index alone: `users_locked_until` held every user
 * with a lock end, so counting those locked now (and not disabled) read each one's row for
 * `disabled_reason`, 10,000 random row reads at a million users with 1 % locked (30 ms on
 * SQLite). This index holds only locked, not disabled users; it replaces that one, whose only
 * reader was the count.
 */
export function lockedCount(): { up(db: AnyDb): Promise<void> } {
  return {
    async up(db) {
      // First statement: a second process applying this migration at once collides here.
      await db.schema.createIndex("users_locked_now").on("users").column("locked_until")
        .where("locked_until", "is not", null).where(sql.ref("disabled_reason"), "is", null).execute();
      await db.schema.dropIndex("users_locked_until").execute();
    },
  };
}
