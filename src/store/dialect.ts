import { PostgresAdapter, type Kysely } from "kysely";
export type Dialect = "sqlite" | "postgres";

export function dialectOf(databaseUrl: string): Dialect {
  return databaseUrl.startsWith("postgres") ? "postgres" : "sqlite";
}

/** The dialect of an open Kysely instance (a transaction included). */
export function dialectOfDb<T>(db: Kysely<T>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite";
}
