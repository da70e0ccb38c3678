import type { Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function totp(dialect: Dialect): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      // Secrets are AES-256-GCM ciphertexts; the key never touches the database.
      await db.schema.alterTable("users").addColumn("totp_secret", "text").execute();
      await db.schema.alterTable("users").addColumn("totp_pending_secret", "text").execute();
      await db.schema.alterTable("users").addColumn("totp_last_step", time).execute();

      await db.schema.createTable("mfa_challenges")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("expires_at", time, (c) => c.notNull())
        .addColumn("ip", "text")
        .execute();
      await db.schema.createIndex("mfa_challenges_user").on("mfa_challenges").column("user_id").execute();

      await db.schema.createTable("recovery_codes")
        .addColumn("code_hash", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", time, (c) => c.notNull())
        .addColumn("used_at", time)
        .execute();
      await db.schema.createIndex("recovery_codes_user").on("recovery_codes").column("user_id").execute();
    },
  };
}
