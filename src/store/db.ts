import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase as SqliteDialectDatabase } from "kysely";
import pg from "pg";
import { BACKSTOP_CHECKPOINT_PAGES, startCheckpointer, type Checkpointer } from "./checkpointer.ts";
import { dialectOf, type Dialect } from "./dialect.ts";
import { runDirectly, type DirectStatement } from "./prepared.ts";
import type { Schema } from "./schema.ts";
import { withNulFreeText } from "./text-parameters.ts";

export interface Database {
  readonly db: Kysely<Schema>;
  /**
   * A connection of its own for liveness bookkeeping (the instance heartbeat), so that it never
   * queues behind a flood of requests holding every connection of `db`. SQLite: `db` itself.
   */
  readonly background: Kysely<Schema>;
  readonly dialect: Dialect;
  /** Absolute path of the SQLite file, or null for PostgreSQL and in-memory databases. */
  readonly sqlitePath: string | null;
  /** Resolves when the database answers a trivial query within `timeoutMs`, else rejects. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * SQLite file: checkpoint the WAL from a worker thread (checkpointer.ts) rather than on the
   * event loop inside a commit. For long-lived servers; a CLI command has no use for a thread.
   */
  readonly backgroundCheckpoints?: boolean;
}

const INT8_OID = 20;

function postgresPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    // Epoch-millisecond BIGINTs fit a double exactly; parse them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A client losing its connection (idle, or checked out mid-query) must not crash the process
  // with an unhandled "error" event; the failing query rejects and the request answers 503.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

function openPostgres(url: string): Database {
  const db = new Kysely<Schema>({ dialect: withNulFreeText(new PostgresDialect({ pool: postgresPool(url, 10) })) });
  const background = new Kysely<Schema>({ dialect: withNulFreeText(new PostgresDialect({ pool: postgresPool(url, 1) })) });
  return wrap(db, background, "postgres", null);
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every statement anew; preparing was the largest cost of a login's
 * bookkeeping on SQLite. The queries are a small fixed set, so prepared statements are reused.
 */
function withStatementCache(connection: SqliteDatabase.Database, onWrite: () => void): SqliteDialectDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => { cache.clear(); connection.close(); },
    prepare(query: string) {
      let statement = cache.get(query);
      if (statement === undefined) {
        statement = connection.prepare(query);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        cache.set(query, statement);
      }
      if (!statement.reader) onWrite();
      return statement;
    },
  };
}

/**
 * Writes after which a server's checkpoints move to a worker thread. The thread costs about
 * 15 MB, which an idle or quiet server has no reason to pay; a busy one gets it within seconds.
 */
const WRITES_BEFORE_BACKGROUND_CHECKPOINTS = 256;

function openSqlite(url: string, options: OpenOptions): Database {
  const location = url.slice("sqlite:".length);
  const inMemory = location === ":memory:";
  const path = inMemory ? null : resolve(location);
  if (path !== null) mkdirSync(dirname(path), { recursive: true });
  const connection = new SqliteDatabase(path ?? ":memory:");
  connection.pragma("journal_mode = WAL");
  // Several processes may share the file: wait for the write lock instead of failing.
  connection.pragma("busy_timeout = 10000");
  connection.pragma("synchronous = NORMAL");
  connection.pragma("foreign_keys = ON");
  let checkpointer: Checkpointer | null = null;
  let writesLeft = path !== null && options.backgroundCheckpoints === true
    ? WRITES_BEFORE_BACKGROUND_CHECKPOINTS : Number.POSITIVE_INFINITY;
  const onWrite = (): void => {
    if (--writesLeft !== 0 || path === null) return;
    checkpointer = startCheckpointer(path);
    connection.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  };
  // NUL-free text on SQLite too: both dialects store and compare the same strings.
  const statements = withStatementCache(connection, onWrite);
  const db = new Kysely<Schema>({ dialect: withNulFreeText(new SqliteDialect({ database: statements })) });
  runDirectly(db, { inTransaction: () => connection.inTransaction, prepare: (query) => statements.prepare(query) as unknown as DirectStatement });
  return wrap(db, db, "sqlite", path, () => checkpointer);
}

function wrap(
  db: Kysely<Schema>, background: Kysely<Schema>, dialect: Dialect, sqlitePath: string | null,
  checkpointer: () => Checkpointer | null = () => null,
): Database {
  return {
    db,
    background,
    dialect,
    sqlitePath,
    async ping(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error("database did not answer in time"), { code: "database_unavailable" })), timeoutMs);
      });
      try {
        await Promise.race([sql`SELECT 1`.execute(db), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await checkpointer()?.stop();
      if (background !== db) await background.destroy();
      await db.destroy();
    },
  };
}

/**
 * Opens `sqlite:<path>` (directory created, WAL) or `postgres://…`.
 *
 * @example const database = openDatabase("sqlite:./data/deadbolt.db");
 */
export function openDatabase(url: string, options: OpenOptions = {}): Database {
  return dialectOf(url) === "postgres" ? openPostgres(url) : openSqlite(url, options);
}
