import type { Compilable, CompiledQuery, Kysely, KyselyPlugin, QueryResult } from "kysely";
import type { Schema } from "./schema.ts";
import { nulFreeParameters } from "./text-parameters.ts";

/**
 * Statements built and compiled once. Kysely builds every query anew: an immutable node tree,
 * frozen at each step, then compiled to SQL. On a login's few hot statements that was about a
 * tenth of the event loop's time, with the garbage to collect after it. A prepared statement
 * runs its builder once per database (dialect and plugins), with placeholders for the
 * arguments, and afterwards only swaps the arguments into the compiled parameters.
 *
 * A builder must hand its arguments to Kysely untouched (no arithmetic, no JSON.stringify, no
 * branching on them): they are placeholders the first time. Where the SQL depends on the
 * arguments' shape (how many rows, which optional columns), each shape is compiled on its own.
 * The shape is the arguments' structure (object keys, array lengths, undefined leaves), so that
 * structure must decide the SQL, never the values.
 */

const PLACEHOLDER = Symbol("deadbolt.placeholder");
interface Placeholder { readonly [PLACEHOLDER]: number }
type Db = Kysely<Schema>;

function isPlaceholder(value: unknown): value is Placeholder {
  return typeof value === "object" && value !== null && PLACEHOLDER in value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

interface Flattened {
  readonly values: unknown[];
  /** The arguments' structure (keys, lengths, undefined leaves): what decides the SQL. */
  shape: string;
  /** An argument is a Kysely expression: it is part of the SQL, so this call is built afresh. */
  expressions: boolean;
}

function isExpression(value: unknown): boolean {
  return typeof value === "function" ||
    (typeof value === "object" && value !== null && typeof (value as { toOperationNode?: unknown }).toOperationNode === "function");
}

/** Every leaf of the arguments, depth first (arrays by index, objects by key order). */
function flatten(value: unknown, into: Flattened): Flattened {
  if (Array.isArray(value)) {
    into.shape += `[${value.length}`;
    for (const item of value) flatten(item, into);
    into.shape += "]";
  } else if (isPlainObject(value)) {
    into.shape += "{";
    for (const key in value) {
      into.shape += `${key}:`;
      flatten(value[key], into);
    }
    into.shape += "}";
  } else {
    if (isExpression(value)) into.expressions = true;
    into.shape += value === undefined ? "u" : ".";
    into.values.push(value);
  }
  return into;
}

/**
 * The arguments with every leaf replaced by a placeholder numbered as `flatten` orders them.
 * An undefined leaf stays undefined (Kysely leaves such a column out), and is part of the shape.
 */
function withPlaceholders(value: unknown, count: { n: number }): unknown {
  if (Array.isArray(value)) return value.map((item) => withPlaceholders(item, count));
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key in value) copy[key] = withPlaceholders(value[key], count);
    return copy;
  }
  const index = count.n++;
  return value === undefined ? undefined : ({ [PLACEHOLDER]: index } satisfies Placeholder);
}

/** Plugins whose query transformation depends only on the query, never on a queryId kept for later. */
const STATELESS_PLUGINS = new WeakSet<object>();
/** Of those, the plugins whose transformResult hands the result back as it is. */
const RESULT_NEUTRAL_PLUGINS = new WeakSet<object>();

/**
 * Marks a plugin as safe to apply once for all executions of a prepared statement; with
 * `resultsUntouched`, also as one whose transformResult returns the result unchanged, so a
 * statement may skip it (see `runDirectly`).
 */
export function statelessPlugin<P extends KyselyPlugin>(plugin: P, options: { readonly resultsUntouched?: boolean } = {}): P {
  STATELESS_PLUGINS.add(plugin);
  if (options.resultsUntouched === true) RESULT_NEUTRAL_PLUGINS.add(plugin);
  return plugin;
}

/** What a statement needs of better-sqlite3 to run without Kysely's connection handling. */
export interface DirectSqlite {
  /** Whether a transaction is open on the connection (better-sqlite3's `inTransaction`). */
  readonly inTransaction: () => boolean;
  /** The connection's cached statement for this SQL. */
  prepare(sql: string): DirectStatement;
}

export interface DirectStatement {
  readonly reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint };
}

/** By Kysely adapter: the SQLite connection behind it, where openDatabase registered one. */
const DIRECT = new WeakMap<object, DirectSqlite>();

/**
 * Lets prepared statements of this Kysely (and of its transactions and plugin variants) run on
 * the better-sqlite3 connection at once. Kysely hands its one SQLite connection out through
 * half a dozen async layers (mutex, runtime driver, connection provider, plugins), each a
 * promise per statement; on a login's ten statements that was about as much of the event
 * loop as SQLite itself. better-sqlite3 is synchronous, so a statement that may run now can
 * simply run: at the top level when no transaction is open on the connection (an autocommit
 * statement then cannot land inside another request's transaction), in a transaction when it
 * is that transaction's (only its holder has a Transaction object while it is open). Anything
 * else takes Kysely's way and waits its turn.
 */
export function runDirectly(db: Db, direct: DirectSqlite): void {
  DIRECT.set(db.getExecutor().adapter, direct);
}

/** Kysely's SqliteConnection.executeQuery, without the promises around it. */
function runNow<Row>(direct: DirectSqlite, sql: string, parameters: readonly unknown[]): QueryResult<Row> {
  const statement = direct.prepare(sql);
  if (statement.reader) return { rows: statement.all(parameters) as Row[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { insertId: BigInt(lastInsertRowid), numAffectedRows: BigInt(changes), rows: [] };
}

const pluginIds = new WeakMap<object, number>();
let nextPluginId = 0;

/**
 * The compiled SQL depends on the dialect (its adapter) and the plugins: a key for both, or
 * null when a plugin might keep per-query state (an app's own Kysely): then nothing is cached.
 */
function executorKey(db: Db): { adapter: object; plugins: string; resultsUntouched: boolean } | null {
  const executor = db.getExecutor();
  let plugins = "";
  let resultsUntouched = true;
  for (const plugin of executor.plugins) {
    if (!STATELESS_PLUGINS.has(plugin)) return null;
    if (!RESULT_NEUTRAL_PLUGINS.has(plugin)) resultsUntouched = false;
    let id = pluginIds.get(plugin);
    if (id === undefined) pluginIds.set(plugin, (id = nextPluginId++));
    plugins += `${id},`;
  }
  return { adapter: executor.adapter, plugins, resultsUntouched };
}

export interface Prepared<Args extends readonly unknown[], Row> {
  execute(db: Db, ...args: Args): Promise<QueryResult<Row>>;
  /** The first row, or undefined. */
  takeFirst(db: Db, ...args: Args): Promise<Row | undefined>;
}

export function prepared<Args extends readonly unknown[], Row>(
  build: (db: Db, ...args: Args) => Compilable<Row>,
): Prepared<Args, Row> {
  const compiled = new WeakMap<object, Map<string, CompiledQuery<Row>>>();

  async function execute(db: Db, ...args: Args): Promise<QueryResult<Row>> {
    const key = executorKey(db);
    if (key === null) return db.executeQuery(build(db, ...args));
    const { values, shape: structure, expressions } = flatten(args, { values: [], shape: "", expressions: false });
    if (expressions) return db.executeQuery(build(db, ...args));
    let byShape = compiled.get(key.adapter);
    if (byShape === undefined) compiled.set(key.adapter, (byShape = new Map()));
    const shape = `${key.plugins}|${structure}`;
    let query = byShape.get(shape);
    if (query === undefined) {
      query = build(db, ...(withPlaceholders(args, { n: 0 }) as Args)).compile();
      byShape.set(shape, query);
    }
    const bound = query.parameters.map((parameter) => (isPlaceholder(parameter) ? values[parameter[PLACEHOLDER]] : parameter));
    const parameters = nulFreeParameters(bound) ?? bound;
    const direct = key.resultsUntouched ? DIRECT.get(key.adapter) : undefined;
    if (direct !== undefined && direct.inTransaction() === db.isTransaction) return runNow<Row>(direct, query.sql, parameters);
    return db.executeQuery<Row>({ ...query, parameters });
  }

  return {
    execute,
    async takeFirst(db, ...args) {
      return (await execute(db, ...args)).rows[0];
    },
  };
}
