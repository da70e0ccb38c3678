import type { Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// Migrations take `Kysely<any>`: they describe the schema as it was, not the current types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function initial(dialect: Dialect): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      await db.schema.createTable("users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull().defaultTo("user"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("disabled_reason", "text")
        .addColumn("disabled_at", time)
        .addColumn("locked_until", time)
        .addColumn("locked_at", time)
        .addColumn("lock_reason", "text")
        .addColumn("lockout_count", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("password_failures", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("password_last_failed_at", time)
        .addColumn("password_slots", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("mfa_failures", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("mfa_last_failed_at", time)
        .addColumn("mfa_slots", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("last_failed_at", time)
        .addColumn("last_failed_ip", "text")
        .addColumn("last_login_at", time)
        .addColumn("mfa_enabled", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("version", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      // Partial indexes keep "who is locked / disabled now" fast with millions of users.
      // Built, not raw SQL, so that the library's table prefix applies (store/prefix.ts).
      await db.schema.createIndex("users_locked_until").on("users").column("locked_until").where("locked_until", "is not", null).execute();
      await db.schema.createIndex("users_disabled").on("users").column("disabled_reason").where("disabled_reason", "is not", null).execute();
      await db.schema.createIndex("users_admins").on("users").column("role").where("role", "=", "admin").execute();
      await db.schema.createIndex("users_created").on("users").columns(["created_at", "id"]).execute();

      await db.schema.createTable("sessions")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("last_seen_at", time, (c) => c.notNull())
        .addColumn("expires_at", time, (c) => c.notNull())
        .addColumn("ip", "text")
        .addColumn("user_agent", "text")
        .execute();
      await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();

      await db.schema.createTable("events")
        .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) =>
          dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("at", time, (c) => c.notNull())
        .addColumn("user_id", "text")
        .addColumn("email", "text")
        .addColumn("ip", "text")
        .addColumn("user_agent", "text")
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("details", "text", (c) => c.notNull().defaultTo("{}"))
        .execute();
      await db.schema.createIndex("events_at").on("events").columns(["at", "id"]).execute();
      await db.schema.createIndex("events_user_at").on("events").columns(["user_id", "at"]).execute();
      await db.schema.createIndex("events_type_at").on("events").columns(["type", "at"]).execute();
      await db.schema.createIndex("events_ip_at").on("events").columns(["ip", "at"]).execute();
    },
  };
}
