import type { Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function devices(dialect: Dialect): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      // One row per (browser, user): a browser's token (only its SHA-256 is stored) may be
      // trusted by several users, and each pair has its own counter and lock.
      await db.schema.createTable("devices")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("token_hash", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("last_used_at", time, (c) => c.notNull())
        .addColumn("ip", "text")
        .addColumn("user_agent", "text")
        .addColumn("locked_until", time)
        .addColumn("password_failures", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("password_last_failed_at", time)
        .addColumn("password_slots", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("version", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("devices_token_user").unique().on("devices").columns(["token_hash", "user_id"]).execute();
      await db.schema.createIndex("devices_user").on("devices").columns(["user_id", "last_used_at"]).execute();
      // A second-factor challenge remembers the trusted device its password came from, so a
      // password lock (which stops untrusted clients only) does not end it.
      await db.schema.alterTable("mfa_challenges").addColumn("device_id", "text").execute();
    },
  };
}
