import type { Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/** The OpenID Connect provider's clients, its stored artifacts and its signing keys. */
export function oidc(dialect: Dialect): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      await db.schema.createTable("oidc_clients")
        .addColumn("client_id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        // SHA-256 of the secret (shown once); null for a public client.
        .addColumn("secret_hash", "text")
        .addColumn("redirect_uris", "text", (c) => c.notNull())
        .addColumn("post_logout_redirect_uris", "text", (c) => c.notNull())
        .addColumn("created_at", time, (c) => c.notNull())
        .execute();

      // Every oidc-provider model (sessions, grants, codes, tokens, interactions) in one table,
      // so several instances on one database share them. The indexed columns are the lookups
      // the provider makes (uid, grant) and the ones revocation needs (account, client).
      await db.schema.createTable("oidc_payloads")
        .addColumn("model", "text", (c) => c.notNull())
        .addColumn("id", "text", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull())
        .addColumn("grant_id", "text")
        // Deleting a user deletes everything issued to them.
        .addColumn("account_id", "text", (c) => c.references("users.id").onDelete("cascade"))
        .addColumn("client_id", "text")
        .addColumn("uid", "text")
        .addColumn("user_code", "text")
        .addColumn("expires_at", time)
        .addColumn("consumed_at", time)
        .addPrimaryKeyConstraint("oidc_payloads_pk", ["model", "id"])
        .execute();
      await db.schema.createIndex("oidc_payloads_grant").on("oidc_payloads").column("grant_id").execute();
      await db.schema.createIndex("oidc_payloads_account").on("oidc_payloads").column("account_id").execute();
      await db.schema.createIndex("oidc_payloads_client").on("oidc_payloads").column("client_id").execute();
      await db.schema.createIndex("oidc_payloads_uid").on("oidc_payloads").columns(["model", "uid"]).execute();
      await db.schema.createIndex("oidc_payloads_expires").on("oidc_payloads").column("expires_at").execute();

      // Signing keys, sealed with DEADBOLT_SECRET_KEY. One generation per algorithm is unique,
      // so two instances starting at once cannot both create the first key.
      await db.schema.createTable("oidc_keys")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("alg", "text", (c) => c.notNull())
        .addColumn("generation", "integer", (c) => c.notNull())
        .addColumn("sealed_jwk", "text", (c) => c.notNull())
        .addColumn("created_at", time, (c) => c.notNull())
        // Signs from this time on (published before, so every instance and RP knows it first).
        .addColumn("active_from", time, (c) => c.notNull())
        // Set when a newer key takes over; still published until then, for tokens it signed.
        .addColumn("published_until", time)
        .addUniqueConstraint("oidc_keys_alg_generation", ["alg", "generation"])
        .execute();
    },
  };
}
