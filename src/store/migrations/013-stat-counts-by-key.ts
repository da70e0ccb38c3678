import { sql, type Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

const COLUMNS = ["kind", "res", "key", "start", "failures", "lockouts", "user_id"] as const;

/**
 * Counters keyed by (kind, key, res, start), and a rank index without the totals. A failed
 * login adds to 12 counter rows: one per resolution for its e-mail, its address and the totals.
 * Keyed (kind, res, key, start), a key's four rows lay in four distant parts of the table, and
 * the rank index moved all twelve entries, totals included, which no top-10 list reads: about
 * 24 pages written per failure. Keyed by the key first, its four rows share a page; without the
 * totals the rank index moves eight. A wrong-password transaction on SQLite: 357 -> 218 µs
 * (statement and commit time, 2,000 accounts, one address), the most of a failed login's
 * database time. The copy takes about 3 s per million counter rows (SQLite, this machine).
 */
export function statCountsByKey(dialect: Dialect, options: { readonly tablePrefix: string }): { up(db: AnyDb): Promise<void> } {
  const time = dialect === "postgres" ? "bigint" : "integer";
  const rebuild = async (db: AnyDb): Promise<void> => {
    // First statement: a second process applying this migration at once collides here.
    await db.schema.createTable("stat_counts_next")
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("res", "integer", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("start", time, (c) => c.notNull())
      .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("lockouts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("user_id", "text")
      // Not stat_counts_pk: PostgreSQL names the key's index after it, beside the old table's.
      .addPrimaryKeyConstraint("stat_counts_key_pk", ["kind", "key", "res", "start"])
      .$call((t) => (dialect === "sqlite" ? t.modifyEnd(sql`WITHOUT ROWID`) : t))
      .execute();
    // PostgreSQL: a server of the previous version may still count failures; they wait for
    // the copy rather than land in the old table after it (raw SQL: the prefix by hand).
    // SQLite's transaction holds the one write lock already.
    if (dialect === "postgres") await sql`LOCK TABLE ${sql.table(`${options.tablePrefix}stat_counts`)} IN EXCLUSIVE MODE`.execute(db);
    await db.insertInto("stat_counts_next").columns(COLUMNS).expression(db.selectFrom("stat_counts").select(COLUMNS)).execute();
    await db.schema.dropTable("stat_counts").execute();
    await db.schema.alterTable("stat_counts_next").renameTo("stat_counts").execute();
    // The per-bucket lists of the top-10 search (e-mails and addresses), read in descending
    // order; its readers repeat the predicate literally, as SQLite needs to choose it.
    await db.schema.createIndex("stat_counts_rank").on("stat_counts").columns(["kind", "res", "start", "failures"])
      .where(sql.ref("kind"), "<>", sql.lit("t")).execute();
  };
  return {
    async up(db) {
      // Kysely runs SQLite's migrations outside a transaction: one here, so that a process
      // stopped halfway leaves the old table as it was.
      if (dialect === "sqlite" && !db.isTransaction) await db.transaction().execute(rebuild);
      else await rebuild(db);
    },
  };
}
