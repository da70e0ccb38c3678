import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/store/index.ts";
import { PG_URL } from "../support/databases.ts";

// Issue 8, defect 7: pg words connection failures in several ways ("Client has encountered a
// connection error and is not queryable" answered 500). Each error below is the one the driver
// really throws (produced here against the shared PostgreSQL, fake servers and SQLite files),
// except a few shapes that cannot be provoked safely (too many connections), built as pg builds them.

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

/** A TCP server that does `onSocket` to every connection: a PostgreSQL that misbehaves. */
async function fakeServer(onSocket: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

function client(port: number, extra: Partial<pg.ClientConfig> = {}): pg.Client {
  const c = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres", ...extra });
  c.on("error", () => {});
  return c;
}

function pgDatabaseError(code: string, message: string): Error {
  const error = new pg.DatabaseError(message, 0, "error");
  return Object.assign(error, { code, severity: "FATAL" });
}

const unavailable = new Map<string, unknown>();
const notUnavailable = new Map<string, unknown>();
const servers: Server[] = [];
const sockets: Socket[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();

  // Refused: nothing listens on the port.
  const closed = await fakeServer(() => {});
  await new Promise<void>((resolve) => closed.server.close(() => resolve()));
  unavailable.set("connect refused (ECONNREFUSED)", await caught(() => client(closed.port).connect()));
  // A name that resolves to ::1 and 127.0.0.1: Node reports an AggregateError (or ECONNREFUSED).
  unavailable.set("connect to localhost refused on every address", await caught(() => client(closed.port, { host: "localhost" }).connect()));

  const reset = await fakeServer((socket) => socket.resetAndDestroy());
  servers.push(reset.server);
  unavailable.set("connection reset (ECONNRESET)", await caught(() => client(reset.port).connect()));

  const hangUp = await fakeServer((socket) => socket.end());
  servers.push(hangUp.server);
  unavailable.set("Connection terminated unexpectedly (server hung up)", await caught(() => client(hangUp.port).connect()));

  const silent = await fakeServer(() => {});
  servers.push(silent.server);
  unavailable.set("connect timeout of a Client", await caught(() => client(silent.port, { connectionTimeoutMillis: 50 }).connect()));
  const silentPool = new pg.Pool({ host: "127.0.0.1", port: silent.port, connectionTimeoutMillis: 50 });
  silentPool.on("error", () => {});
  unavailable.set("connect timeout of a Pool", await caught(() => silentPool.query("SELECT 1")));
  await silentPool.end().catch(() => {});

  // A backend terminated by an administrator (or a fast shutdown): the query in flight gets
  // 57P01, the next one on that client "Connection terminated unexpectedly".
  const victim = new pg.Client({ connectionString: PG_URL });
  victim.on("error", () => {});
  await victim.connect();
  const victimPid = (await victim.query<{ p: number }>("SELECT pg_backend_pid() AS p")).rows[0]!.p;
  const sleeping = caught(() => victim.query("SELECT pg_sleep(30)"));
  await admin.query("SELECT pg_terminate_backend($1) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [victimPid]);
  for (let i = 0; i < 100 && (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [victimPid])).rowCount !== 0; i++) {
    await admin.query("SELECT pg_terminate_backend($1)", [victimPid]);
  }
  unavailable.set("57P01 terminating connection due to administrator command", await sleeping);
  unavailable.set("a query after the connection ended", await caught(() => victim.query("SELECT 1")));

  // The same inside a transaction of a pooled client: the next statement, and the ROLLBACK,
  // get "Client has encountered a connection error and is not queryable" (the defect's words).
  const pool = new pg.Pool({ connectionString: PG_URL });
  pool.on("error", () => {});
  const inTransaction = await pool.connect();
  inTransaction.on("error", () => {});
  await inTransaction.query("BEGIN");
  const pid = (await inTransaction.query<{ p: number }>("SELECT pg_backend_pid() AS p")).rows[0]!.p;
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  for (let i = 0; i < 100 && (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).rowCount !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const first = await caught(() => inTransaction.query("SELECT 1"));
  const rollback = await caught(() => inTransaction.query("ROLLBACK"));
  unavailable.set("statement after the connection broke mid-transaction", first);
  unavailable.set("ROLLBACK after the connection broke mid-transaction", rollback);
  inTransaction.release(true);
  await pool.end();
  unavailable.set("a pool after end()", await caught(() => pool.query("SELECT 1")));

  const ended = new pg.Client({ connectionString: PG_URL });
  await ended.connect();
  await ended.end();
  unavailable.set("a client after end()", await caught(() => ended.query("SELECT 1")));

  const nameOfMissing = new URL(PG_URL);
  nameOfMissing.pathname = "/deadbolt_no_such_database";
  unavailable.set("3D000 the database does not exist (dropped)", await caught(() => {
    const c = new pg.Client({ connectionString: nameOfMissing.toString() });
    c.on("error", () => {});
    return c.connect();
  }));
  unavailable.set("53300 too many connections", pgDatabaseError("53300", "sorry, too many clients already"));
  unavailable.set("57P03 the database system is starting up", pgDatabaseError("57P03", "the database system is starting up"));
  unavailable.set("57P02 crash shutdown", pgDatabaseError("57P02", "terminating connection because of crash of another server process"));
  unavailable.set("08006 connection failure", pgDatabaseError("08006", "connection failure"));
  unavailable.set("EPIPE writing to a closed socket", Object.assign(new Error("write EPIPE"), { code: "EPIPE", errno: -32, syscall: "write" }));
  unavailable.set("ETIMEDOUT", Object.assign(new Error("connect ETIMEDOUT 10.0.0.1:5432"), { code: "ETIMEDOUT", errno: -110, syscall: "connect" }));

  const kysely = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL }) }) });
  await sql`SELECT 1`.execute(kysely);
  await kysely.destroy();
  unavailable.set("Kysely after destroy()", await caught(() => sql`SELECT 1`.execute(kysely)));
  unavailable.set("a cause that is a connection error", new Error("could not record", { cause: unavailable.get("connect refused (ECONNREFUSED)") }));

  // SQLite: a write lock held elsewhere, a closed file, a file opened read-only.
  const dir = mkdtempSync(join(tmpdir(), "deadbolt-unavailable-"));
  dirs.push(dir);
  const file = join(dir, "x.db");
  const holder = new SqliteDatabase(file);
  holder.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
  holder.exec("BEGIN IMMEDIATE");
  const other = new SqliteDatabase(file, { timeout: 0 });
  unavailable.set("SQLITE_BUSY: the write lock is held", await caught(async () => other.exec("INSERT INTO t (v) VALUES ('a')")));
  holder.exec("ROLLBACK");
  other.exec("INSERT INTO t (v) VALUES ('a')");
  notUnavailable.set("SQLITE_CONSTRAINT_UNIQUE", await caught(async () => other.exec("INSERT INTO t (v) VALUES ('a')")));
  notUnavailable.set("SQLITE_ERROR (no such table)", await caught(async () => other.exec("SELECT * FROM missing")));
  other.close();
  unavailable.set("a closed SQLite database", await caught(async () => other.prepare("SELECT 1")));
  holder.close();
  const readOnly = new SqliteDatabase(file, { readonly: true });
  unavailable.set("SQLITE_READONLY", await caught(async () => readOnly.exec("INSERT INTO t (v) VALUES ('b')")));
  readOnly.close();

  // What must stay a 500 (a bug) or a 400 (bad input), never a "try again later".
  notUnavailable.set("42601 syntax error", await caught(() => admin.query("SELEC 1")));
  notUnavailable.set("22021 NUL byte in text", await caught(() => admin.query("SELECT $1::text", ["a\u0000b"])));
  notUnavailable.set("22008 timestamp out of range", await caught(() => admin.query("SELECT to_timestamp(1e20)")));
  notUnavailable.set("23505 unique violation", pgDatabaseError("23505", "duplicate key value violates unique constraint"));
  notUnavailable.set("40001 serialization failure", pgDatabaseError("40001", "could not serialize access"));
  notUnavailable.set("57014 statement cancelled", pgDatabaseError("57014", "canceling statement due to statement timeout"));
  notUnavailable.set("a TypeError", new TypeError("Cannot read properties of undefined (reading 'id')"));
  notUnavailable.set("a message that only mentions connections", new Error("Connection terminated by the user's new rule"));
  notUnavailable.set("a string", "ECONNREFUSED");
  notUnavailable.set("null", null);
  await admin.end();
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("isDatabaseUnavailable over real driver errors", () => {
  it("the table really holds the driver's words", () => {
    const message = (name: string, table: Map<string, unknown>): string => String((table.get(name) as Error | undefined)?.message);
    expect(message("statement after the connection broke mid-transaction", unavailable)).toBe("Client has encountered a connection error and is not queryable");
    expect(message("ROLLBACK after the connection broke mid-transaction", unavailable)).toBe("Client has encountered a connection error and is not queryable");
    expect((unavailable.get("57P01 terminating connection due to administrator command") as { code?: string }).code).toBe("57P01");
    expect((unavailable.get("3D000 the database does not exist (dropped)") as { code?: string }).code).toBe("3D000");
    expect((unavailable.get("SQLITE_BUSY: the write lock is held") as { code?: string }).code).toBe("SQLITE_BUSY");
    expect((notUnavailable.get("42601 syntax error") as { code?: string }).code).toBe("42601");
  });

  it("connection, shutdown and overload errors are unavailable (503)", () => {
    const misclassified = [...unavailable].filter(([, error]) => !isDatabaseUnavailable(error))
      .map(([name, error]) => `${name}: ${String((error as Error | undefined)?.message ?? error)}`);
    expect(misclassified).toEqual([]);
    expect(unavailable.size).toBeGreaterThanOrEqual(20);
  });

  it("bugs, bad input and conflicts are not", () => {
    const misclassified = [...notUnavailable].filter(([, error]) => isDatabaseUnavailable(error)).map(([name]) => name);
    expect(misclassified).toEqual([]);
  });
});
