import type { Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * A user's devices by `user_id` alone. `devices_user` was on (user_id, last_used_at), so every
 * sign-in from a trusted device, which sets last_used_at, also moved an index entry: one more
 * page written (and checkpointed) per login. A user has a handful of devices; their list sorts
 * them in memory just as fast.
 */
export function deviceUserIndex(): { up(db: AnyDb): Promise<void> } {
  return {
    async up(db) {
      // First statement: a second process applying this migration at once collides here.
      await db.schema.createIndex("devices_of_user").on("devices").column("user_id").execute();
      await db.schema.dropIndex("devices_user").execute();
    },
  };
}
