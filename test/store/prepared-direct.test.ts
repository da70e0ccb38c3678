/**
 * On SQLite a prepared statement runs on the better-sqlite3 connection at once when it may
 * (src/store/prepared.ts, runDirectly): at the top level with no transaction open, and inside
 * its own transaction. These tests watch which way each statement takes (Kysely's
 * executeQuery, or not) and prove that the shortcut never changes what a statement does:
 * never a write inside another request's transaction, never a result a plugin would change.
 */
import type { Kysely, KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrate, openDatabase, prepared, statelessPlugin, type Database, type Schema } from "../../src/store/index.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");
type Db = Kysely<Schema>;

const USER = {
  id: "u-a", email: "a@example.com", password_hash: "x", role: "user", created_at: NOW, lockout_count: 0,
  password_failures: 0, password_slots: "[]", mfa_failures: 0, mfa_slots: "[]", mfa_enabled: 0, version: 0,
} as const;

const setCount = prepared((db: Db, count: number) =>
  db.updateTable("users").set({ lockout_count: count }).where("id", "=", USER.id).returning("lockout_count"));
const readCount = prepared((db: Db) => db.selectFrom("users").select("lockout_count").where("id", "=", USER.id));

/** Counts the statements `db` hands to Kysely's executor (the way every statement takes on PostgreSQL). */
function watched<T extends Db>(db: T): T & { viaKysely: number } {
  const counted = Object.assign(db, { viaKysely: 0 });
  const executeQuery = db.executeQuery.bind(db);
  counted.executeQuery = ((query: Parameters<Db["executeQuery"]>[0]) => {
    counted.viaKysely += 1;
    return executeQuery(query);
  }) as Db["executeQuery"];
  return counted;
}

/** A stateless plugin that rewrites results: statements through it must keep Kysely's way. */
class DoublingPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs) {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return { ...args.result, rows: args.result.rows.map((row) => ({ ...row, lockout_count: Number(row.lockout_count) * 2 })) };
  }
}

describe.each(DIALECTS)("prepared statements run directly where they may (%s)", (dialect) => {
  const direct = dialect === "sqlite";
  let test: TestDatabase;
  let database: Database;
  let db: Db & { viaKysely: number };
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    await database.db.insertInto("users").values(USER).execute();
    db = watched(database.db);
  });
  beforeEach(() => {
    db.viaKysely = 0;
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it("at the top level with no transaction open: the same rows, without Kysely's executor on SQLite", async () => {
    expect(await setCount.takeFirst(db, 3)).toEqual({ lockout_count: 3 });
    expect(await readCount.takeFirst(db)).toEqual({ lockout_count: 3 });
    const update = await prepared((d: Db) => d.updateTable("users").set({ lockout_count: 4 }).where("id", "=", USER.id)).execute(db);
    expect(update.numAffectedRows).toBe(1n);
    expect(db.viaKysely).toBe(direct ? 0 : 3);
  });

  it("inside a transaction: on that transaction (a rollback undoes it)", async () => {
    await setCount.execute(db, 5);
    let inside = 0;
    await expect(db.transaction().execute(async (trx) => {
      const t = watched(trx);
      expect(await setCount.takeFirst(t, 6)).toEqual({ lockout_count: 6 });
      expect(await readCount.takeFirst(t)).toEqual({ lockout_count: 6 });
      inside = t.viaKysely;
      throw new Error("roll back");
    })).rejects.toThrow("roll back");
    expect(inside).toBe(direct ? 0 : 2);
    expect(await readCount.takeFirst(db)).toEqual({ lockout_count: 5 });
  });

  it("while another transaction is open: waits its turn and is never part of it", async () => {
    await setCount.execute(db, 7);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const other = db.transaction().execute(async (trx) => {
      await setCount.execute(trx, 8);
      opened();
      await held;
      throw new Error("roll back");
    });
    await isOpen;
    let done = false;
    const write = setCount.takeFirst(db, 9).then((row) => ((done = true), row));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // SQLite has one connection: the statement queues behind the transaction. PostgreSQL
    // blocks on the row lock. Either way it has not happened yet.
    expect(done).toBe(false);
    release();
    await expect(other).rejects.toThrow("roll back");
    expect(await write).toEqual({ lockout_count: 9 });
    expect(await readCount.takeFirst(db)).toEqual({ lockout_count: 9 });
  });

  it("through a plugin that rewrites results: Kysely's way, with the plugin's result", async () => {
    await setCount.execute(db, 10);
    db.viaKysely = 0;
    const doubling = watched(db.withPlugin(statelessPlugin(new DoublingPlugin())));
    expect(await readCount.takeFirst(doubling)).toEqual({ lockout_count: 20 });
    expect(doubling.viaKysely).toBe(1);
  });
});
