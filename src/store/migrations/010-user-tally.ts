import { sql, type Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The console's user count without counting a million rows: `user_tally` holds the number of
 * users as a sum of rows kept by triggers. Service tables only (the console is not the library's).
 */
export function userTally(dialect: Dialect, options: { readonly tablePrefix: string }): { up(db: AnyDb): Promise<void> } {
  return {
    async up(db) {
      if (options.tablePrefix !== "") return;
      // First statement: a second process applying this migration at once collides here.
      await db.schema.createTable("user_tally")
        .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) => c.primaryKey())
        .addColumn("n", "bigint", (c) => c.notNull())
        .execute();
      // Triggers first: creating them locks users until this migration commits, so the count
      // below misses no insert (on PostgreSQL migrations are transactions).
      if (dialect === "postgres") await postgresTriggers(db);
      else await sqliteTriggers(db);
      await sql`INSERT INTO user_tally (id, n) SELECT 0, COUNT(*) FROM users`.execute(db);
    },
  };
}

/** One writer at a time: the single row is updated in place. */
async function sqliteTriggers(db: AnyDb): Promise<void> {
  await sql`CREATE TRIGGER user_tally_insert AFTER INSERT ON users BEGIN
    UPDATE user_tally SET n = n + 1 WHERE id = 0;
  END`.execute(db);
  await sql`CREATE TRIGGER user_tally_delete AFTER DELETE ON users BEGIN
    UPDATE user_tally SET n = n - 1 WHERE id = 0;
  END`.execute(db);
}

/**
 * Concurrent transactions must not queue on one row (nor deadlock through it), so each
 * statement appends its own delta row; countUsers folds them back into one now and then.
 */
async function postgresTriggers(db: AnyDb): Promise<void> {
  await sql`CREATE FUNCTION user_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO user_tally (n) SELECT COUNT(*) FROM new_rows HAVING COUNT(*) > 0;
    RETURN NULL;
  END $$`.execute(db);
  await sql`CREATE FUNCTION user_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO user_tally (n) SELECT -COUNT(*) FROM old_rows HAVING COUNT(*) > 0;
    RETURN NULL;
  END $$`.execute(db);
  await sql`CREATE TRIGGER user_tally_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_tally_insert()`.execute(db);
  await sql`CREATE TRIGGER user_tally_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_tally_delete()`.execute(db);
}
