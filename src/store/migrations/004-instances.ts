import type { Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function instances(dialect: Dialect): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      // One row per running process: verification slots name their owner, and a slot whose
      // owner stopped heartbeating (killed, frozen, cut off) is reclaimed within seconds.
      await db.schema.createTable("instances")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("host", "text", (c) => c.notNull())
        .addColumn("pid", "integer", (c) => c.notNull())
        .addColumn("started_at", time, (c) => c.notNull())
        // The database's own clock, so that instances on different hosts never disagree.
        .addColumn("heartbeat_at", time, (c) => c.notNull())
        .execute();
    },
  };
}
