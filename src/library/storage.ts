import {
  Kysely, PostgresAdapter, PostgresDialect, SqliteAdapter, sql,
  type KyselyPlugin, type PluginTransformQueryArgs, type PostgresPool, type PluginTransformResultArgs, type QueryResult,
  type RootOperationNode, type UnknownRow,
} from "kysely";
import { openDatabase, statelessPlugin, TablePrefixPlugin, type Database, type Dialect, type Schema } from "../store/index.ts";
import { LockoutUsageError, type LockoutStorage } from "./types.ts";

export interface OpenedStorage {
  readonly database: Database;
  readonly tablePrefix: string;
}

const PREFIX = /^[a-z][a-z0-9_]{0,30}_$/;
/** Columns holding epoch milliseconds (BIGINT): `pg` returns them as strings unless told. */
const TIME_COLUMN = /(_at|_until|_step)$|^id$/;

/**
 * With a pool or Kysely instance the app configured, BIGINT arrives as text; the engine wants
 * numbers. Only digit strings in time columns are converted (account keys are never touched).
 */
class PgNumbersPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const rows = args.result.rows.map((row) => {
      let copy: UnknownRow | null = null;
      for (const [key, value] of Object.entries(row)) {
        if (typeof value === "string" && TIME_COLUMN.test(key) && /^-?\d{1,16}$/.test(value)) {
          copy ??= { ...row };
          copy[key] = Number(value);
        }
      }
      return copy ?? row;
    });
    return { ...args.result, rows };
  }
}

function isKysely(value: object): value is Kysely<unknown> {
  return typeof (value as { selectFrom?: unknown }).selectFrom === "function" &&
    typeof (value as { getExecutor?: unknown }).getExecutor === "function";
}

function isPgPool(value: object): value is PostgresPool {
  return typeof (value as { connect?: unknown }).connect === "function" &&
    typeof (value as { query?: unknown }).query === "function" && typeof (value as { totalCount?: unknown }).totalCount === "number";
}

function dialectOfKysely(db: Kysely<unknown>): Dialect {
  const adapter = db.getExecutor().adapter;
  // instanceof fails when the app has its own copy of kysely; the class name does not.
  if (adapter instanceof PostgresAdapter || /postgres/i.test(adapter.constructor.name)) return "postgres";
  if (adapter instanceof SqliteAdapter || /sqlite/i.test(adapter.constructor.name)) return "sqlite";
  throw new LockoutUsageError(`createLockout: db uses ${adapter.constructor.name}; only SQLite and PostgreSQL are supported`);
}

function borrowed(db: Kysely<Schema>, dialect: Dialect): Database {
  return {
    db,
    // The app's pool is the app's: the heartbeat shares it.
    background: db,
    dialect,
    sqlitePath: null,
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    // The app's connection: the app closes it.
    close: async () => {},
  };
}

/** Opens or adopts the database and puts the lockout's tables under their prefix. */
export function openStorage(options: LockoutStorage): OpenedStorage {
  const tablePrefix = options.tablePrefix ?? "deadbolt_";
  if (typeof tablePrefix !== "string" || !PREFIX.test(tablePrefix)) {
    throw new LockoutUsageError(`createLockout: tablePrefix must be lower-case letters, digits and _ ending in _ (got ${JSON.stringify(tablePrefix)})`);
  }
  const prefix = statelessPlugin(new TablePrefixPlugin(tablePrefix), { resultsUntouched: true });
  const { databaseUrl, db } = options;
  if ((databaseUrl === undefined) === (db === undefined)) {
    throw new LockoutUsageError("createLockout: give exactly one of databaseUrl and db");
  }
  if (databaseUrl !== undefined) {
    if (typeof databaseUrl !== "string" || !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
      throw new LockoutUsageError(`createLockout: databaseUrl must be sqlite:<path> or postgres://… (got ${JSON.stringify(String(databaseUrl).slice(0, 40))})`);
    }
    const database = openDatabase(databaseUrl);
    return {
      database: { ...database, db: database.db.withPlugin(prefix), background: database.background.withPlugin(prefix) },
      tablePrefix,
    };
  }
  if (typeof db !== "object" || db === null) throw new LockoutUsageError("createLockout: db must be a Kysely instance or a pg Pool");
  if (isKysely(db)) {
    const dialect = dialectOfKysely(db);
    let adopted = (db as unknown as Kysely<Schema>).withPlugin(prefix);
    if (dialect === "postgres") adopted = adopted.withPlugin(statelessPlugin(new PgNumbersPlugin()));
    return { database: borrowed(adopted, dialect), tablePrefix };
  }
  if (isPgPool(db)) {
    // A Kysely of our own over the app's pool; ending it would end the pool, so close does not.
    const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: db }) })
      .withPlugin(prefix).withPlugin(statelessPlugin(new PgNumbersPlugin()));
    return { database: borrowed(kysely, "postgres"), tablePrefix };
  }
  throw new LockoutUsageError("createLockout: db must be a Kysely instance or a pg Pool");
}
