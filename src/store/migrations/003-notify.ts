import { sql, type Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function notify(dialect: Dialect): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      // The transactional outbox: a row is written in the same transaction as the change that
      // causes the mail, so a mail is never lost; the unique dedupe key means never twice.
      await db.schema.createTable("outbox")
        .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) =>
          dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement())
        .addColumn("dedupe_key", "text", (c) => c.notNull().unique())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
        .addColumn("to_email", "text", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("due_at", time, (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("last_error", "text")
        .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
        .addColumn("claimed_until", time)
        .addColumn("claimed_by", "text")
        .addColumn("sent_at", time)
        .execute();
      // Dispatchers only ever look for pending rows that are due.
      await db.schema.createIndex("outbox_due").on("outbox").columns(["due_at", "id"]).where(sql.ref("status"), "=", "pending").execute();
      // The hourly cap counts a recipient's recent mails.
      await db.schema.createIndex("outbox_user_created").on("outbox").columns(["user_id", "created_at"]).execute();

      // Unlock and reset tokens: only the SHA-256 of the 256-bit token is stored.
      await db.schema.createTable("tokens")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("expires_at", time, (c) => c.notNull())
        .addColumn("used_at", time)
        .execute();
      await db.schema.createIndex("tokens_user_kind").on("tokens").columns(["user_id", "kind"]).execute();
    },
  };
}
