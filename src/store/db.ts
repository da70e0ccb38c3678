import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { dialectOf, type Dialect } from "./dialect.ts";
import type { Schema } from "./schema.ts";

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** Absolute path of the SQLite file, or null for PostgreSQL and in-memory databases. */
  readonly sqlitePath: string | null;
  /** Resolves when the database answers a trivial query within `timeoutMs`, else rejects. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const INT8_OID = 20;

function openPostgres(url: string): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5_000,
    // Epoch-millisecond BIGINTs fit a double exactly; parse them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on("error", () => {});
  return wrap(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), "postgres", null);
}

function openSqlite(url: string): Database {
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
  return wrap(new Kysely<Schema>({ dialect: new SqliteDialect({ database: connection }) }), "sqlite", path);
}

function wrap(db: Kysely<Schema>, dialect: Dialect, sqlitePath: string | null): Database {
  return {
    db,
    dialect,
    sqlitePath,
    async ping(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("database did not answer in time")), timeoutMs);
      });
      try {
        await Promise.race([sql`SELECT 1`.execute(db), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * Opens `sqlite:<path>` (directory created, WAL) or `postgres://…`.
 *
 * @example const database = openDatabase("sqlite:./data/deadbolt.db");
 */
export function openDatabase(url: string): Database {
  return dialectOf(url) === "postgres" ? openPostgres(url) : openSqlite(url);
}
