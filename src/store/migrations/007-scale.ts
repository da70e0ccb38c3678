import { sql, type Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Scale: event counters per time bucket (so the console never scans events), indexes that
 * match the admin user lists' filters and order, and an e-mail substring index.
 */
export function scale(dialect: Dialect, options: { readonly tablePrefix: string }): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db) {
      // kind: 't' totals (key ''), 'e' failed logins per e-mail, 'i' per client address.
      // res: bucket length in seconds (10, 300, 3600, 86400), start: bucket start, epoch ms.
      await db.schema.createTable("stat_counts")
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("res", "integer", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("start", time, (c) => c.notNull())
        .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("lockouts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("user_id", "text")
        .addPrimaryKeyConstraint("stat_counts_pk", ["kind", "res", "key", "start"])
        .$call((t) => (dialect === "sqlite" ? t.modifyEnd(sql`WITHOUT ROWID`) : t))
        .execute();
      // The per-bucket lists of the top-10 search, read in descending order.
      await db.schema.createIndex("stat_counts_rank").on("stat_counts").columns(["kind", "res", "start", "failures"]).execute();

      // Counters for the events already stored, so the console shows the same numbers.
      await backfillStatCounts(db);

      // Keyset pages of "locked now" and "disabled" walk these in e-mail order.
      await db.schema.createIndex("users_locked_email").on("users").columns(["email", "locked_until"])
        .where("locked_until", "is not", null).where(sql.ref("disabled_reason"), "is", null).execute();
      await db.schema.createIndex("users_disabled_email").on("users").column("email")
        .where(sql.ref("disabled_reason"), "is not", null).execute();

      // Retention deletes by age.
      await db.schema.createIndex("sessions_expires").on("sessions").column("expires_at").execute();
      await db.schema.createIndex("tokens_expires").on("tokens").column("expires_at").execute();
      await db.schema.createIndex("tokens_used").on("tokens").column("used_at").where("used_at", "is not", null).execute();
      await db.schema.createIndex("outbox_sent").on("outbox").column("sent_at").where("sent_at", "is not", null).execute();

      // The admin user list (and its search) is the service's, not the library's (prefixed tables).
      if (options.tablePrefix !== "") return;
      if (dialect === "postgres") await postgresSearch(db);
      else await sqliteSearch(db);
    },
  };
}

/** Counts the stored events into `stat_counts` (which must hold none of them yet). */
export async function backfillStatCounts(db: AnyDb): Promise<void> {
  const columns = ["kind", "res", "key", "start", "failures", "lockouts", "user_id"] as const;
  for (const res of [10, 300, 3600, 86400]) {
    const start = sql<number>`(at - (at % ${sql.lit(res * 1000)}))`;
    const failed = db.selectFrom("events").where("type", "=", "login.failed");
    await db.insertInto("stat_counts").columns(columns).expression(db.selectFrom("events")
      .select([sql.lit("t").as("kind"), sql.lit(res).as("res"), sql.lit("").as("key"), start.as("start"),
        sql<number>`SUM(CASE WHEN type = 'login.failed' THEN 1 ELSE 0 END)`.as("failures"),
        sql<number>`SUM(CASE WHEN type = 'account.locked' THEN 1 ELSE 0 END)`.as("lockouts"), sql.lit(null).as("user_id")])
      .where("type", "in", ["login.failed", "account.locked"]).groupBy(start)).execute();
    await db.insertInto("stat_counts").columns(columns).expression(failed
      .select([sql.lit("e").as("kind"), sql.lit(res).as("res"), "email", start.as("start"), sql<number>`COUNT(*)`.as("failures"),
        sql.lit(0).as("lockouts"), sql<string | null>`MAX(user_id)`.as("user_id")])
      .where("email", "is not", null).groupBy(["email", start])).execute();
    await db.insertInto("stat_counts").columns(columns).expression(failed
      .select([sql.lit("i").as("kind"), sql.lit(res).as("res"), "ip", start.as("start"), sql<number>`COUNT(*)`.as("failures"),
        sql.lit(0).as("lockouts"), sql.lit(null).as("user_id")])
      .where("ip", "is not", null).groupBy(["ip", start])).execute();
  }
}

/** A trigram GIN index serves `email LIKE '%…%'`; without pg_trgm the search scans. */
async function postgresSearch(db: AnyDb): Promise<void> {
  // CREATE EXTENSION needs a privilege a managed database may not grant: then go without.
  await sql`DO $$ BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable: e-mail search will scan';
  END $$`.execute(db);
  await sql`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
      EXECUTE 'CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops)';
    END IF;
  END $$`.execute(db);
}

/**
 * An FTS5 trigram index of the e-mails, kept by triggers. The users table has a TEXT key, whose
 * implicit rowids VACUUM may renumber, so a small table gives each user a stable integer that
 * is the index's rowid (and lets a delete find its entry without a scan).
 */
async function sqliteSearch(db: AnyDb): Promise<void> {
  await sql`CREATE TABLE user_search_ids (n INTEGER PRIMARY KEY, user_id TEXT NOT NULL UNIQUE)`.execute(db);
  await sql`CREATE VIRTUAL TABLE users_email_search USING fts5(email, tokenize = 'trigram')`.execute(db);
  await sql`INSERT INTO user_search_ids (user_id) SELECT id FROM users`.execute(db);
  await sql`INSERT INTO users_email_search (rowid, email)
    SELECT m.n, u.email FROM user_search_ids m JOIN users u ON u.id = m.user_id`.execute(db);
  await sql`CREATE TRIGGER users_email_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_search_ids (user_id) VALUES (new.id);
    INSERT INTO users_email_search (rowid, email)
      VALUES ((SELECT n FROM user_search_ids WHERE user_id = new.id), new.email);
  END`.execute(db);
  await sql`CREATE TRIGGER users_email_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_email_search WHERE rowid = (SELECT n FROM user_search_ids WHERE user_id = old.id);
    DELETE FROM user_search_ids WHERE user_id = old.id;
  END`.execute(db);
  await sql`CREATE TRIGGER users_email_search_update AFTER UPDATE OF email ON users BEGIN
    UPDATE users_email_search SET email = new.email
      WHERE rowid = (SELECT n FROM user_search_ids WHERE user_id = new.id);
  END`.execute(db);
}
