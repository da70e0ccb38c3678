/**
 * Prepared statements (src/store/prepared.ts) give exactly what the builder gives: each shape
 * of arguments compiled once, the arguments swapped in afterwards, NUL kept out of text as at
 * compilation, and no caching where a plugin or an argument could make that wrong.
 */
import { sql, type Kysely, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, openDatabase, prepared, statelessPlugin, TablePrefixPlugin, type Database, type Schema } from "../../src/store/index.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const NOW = Date.parse("2026-12-02T12:00:00Z");
type Db = Kysely<Schema>;

const USER = {
  password_hash: "x", role: "user", created_at: NOW, lockout_count: 0, password_failures: 0, password_slots: "[]",
  mfa_failures: 0, mfa_slots: "[]", mfa_enabled: 0, version: 0,
} as const;

/** A plugin that counts the queries it transforms, and is not known to be stateless. */
class CountingPlugin implements KyselyPlugin {
  seen = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    this.seen += 1;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    return args.result;
  }
}

describe.each(DIALECTS)("prepared statements (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    await database.db.insertInto("users").values(["a", "b", "c"].map((name, i) => ({
      ...USER, id: `u-${name}`, email: `${name}@example.com`, lockout_count: i,
    }))).execute();
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it("builds once, then answers each call with its own arguments, as the builder does", async () => {
    let builds = 0;
    const byEmail = prepared((db: Db, email: string) => {
      builds += 1;
      return db.selectFrom("users").selectAll().where("email", "=", email);
    });
    for (const name of ["a", "b", "c", "nobody"]) {
      const direct = await database.db.selectFrom("users").selectAll().where("email", "=", `${name}@example.com`).executeTakeFirst();
      expect(await byEmail.takeFirst(database.db, `${name}@example.com`)).toEqual(direct);
    }
    expect(builds).toBe(1);
    // Inside a transaction too (another executor, the same SQL).
    await database.db.transaction().execute(async (trx) => {
      expect((await byEmail.takeFirst(trx, "b@example.com"))?.id).toBe("u-b");
    });
    expect(builds).toBe(1);
  });

  it("compiles each shape on its own: optional columns present or undefined, row counts, keys", async () => {
    let builds = 0;
    const setColumns = prepared((db: Db, id: string, columns: { lockout_count?: number; last_failed_ip?: string | null; last_login_at?: number }) => {
      builds += 1;
      return db.updateTable("users").set(columns).where("id", "=", id).returning(["lockout_count", "last_failed_ip", "last_login_at"]);
    });
    expect(await setColumns.takeFirst(database.db, "u-a", { lockout_count: 7, last_failed_ip: "192.0.2.1" }))
      .toEqual({ lockout_count: 7, last_failed_ip: "192.0.2.1", last_login_at: null });
    // undefined leaves the column out, as Kysely does: the address stays.
    expect(await setColumns.takeFirst(database.db, "u-a", { lockout_count: 8, last_failed_ip: undefined }))
      .toEqual({ lockout_count: 8, last_failed_ip: "192.0.2.1", last_login_at: null });
    // Other keys, same number of leaves: another statement, not the first one's SQL.
    expect(await setColumns.takeFirst(database.db, "u-a", { lockout_count: 9, last_login_at: NOW }))
      .toEqual({ lockout_count: 9, last_failed_ip: "192.0.2.1", last_login_at: NOW });
    expect(await setColumns.takeFirst(database.db, "u-a", { lockout_count: 10, last_failed_ip: null }))
      .toEqual({ lockout_count: 10, last_failed_ip: null, last_login_at: NOW });
    expect(builds).toBe(3);

    let inserts = 0;
    const insertTokens = prepared((db: Db, rows: readonly { token_hash: string; user_id: string; kind: string; created_at: number; expires_at: number }[]) => {
      inserts += 1;
      return db.insertInto("tokens").values([...rows]);
    });
    const token = (n: number) => ({ token_hash: `t${n}`, user_id: "u-c", kind: "unlock", created_at: NOW, expires_at: NOW + n });
    await insertTokens.execute(database.db, [token(1)]);
    await insertTokens.execute(database.db, [token(2), token(3)]);
    await insertTokens.execute(database.db, [token(4)]);
    expect(inserts).toBe(2);
    const stored = await database.db.selectFrom("tokens").select(["token_hash", "expires_at"]).orderBy("token_hash").execute();
    expect(stored).toEqual([1, 2, 3, 4].map((n) => ({ token_hash: `t${n}`, expires_at: NOW + n })));
  });

  it("keeps NUL out of text arguments, as compilation does for every other query", async () => {
    const setIp = prepared((db: Db, id: string, ip: string) =>
      db.updateTable("users").set({ last_failed_ip: ip }).where("id", "=", id).returning("last_failed_ip"));
    await setIp.execute(database.db, "u-b", "first");
    expect(await setIp.takeFirst(database.db, "u-b", "a\u0000b")).toEqual({ last_failed_ip: "a\uFFFDb" });
  });

  it("builds afresh when an argument is an expression, or a plugin may keep per-query state", async () => {
    let builds = 0;
    const setCount = prepared((db: Db, id: string, count: unknown) => {
      builds += 1;
      return db.updateTable("users").set({ lockout_count: count as number }).where("id", "=", id).returning("lockout_count");
    });
    expect(await setCount.takeFirst(database.db, "u-c", sql<number>`40 + 2`)).toEqual({ lockout_count: 42 });
    expect(await setCount.takeFirst(database.db, "u-c", sql<number>`6 * 7 + 1`)).toEqual({ lockout_count: 43 });
    expect(builds).toBe(2);

    const counting = new CountingPlugin();
    const withCounting = database.db.withPlugin(counting);
    const byId = prepared((db: Db, id: string) => db.selectFrom("users").select("email").where("id", "=", id));
    expect(await byId.takeFirst(withCounting, "u-a")).toEqual({ email: "a@example.com" });
    expect(await byId.takeFirst(withCounting, "u-b")).toEqual({ email: "b@example.com" });
    expect(counting.seen).toBe(2);

    const known = database.db.withPlugin(statelessPlugin(new CountingPlugin()));
    await byId.takeFirst(known, "u-a");
    await byId.takeFirst(known, "u-b");
    expect((known.getExecutor().plugins[0] as CountingPlugin).seen).toBe(1);
  });

  it("compiles per plugin set: a table prefix never reaches the unprefixed database's statement", async () => {
    const count = prepared((db: Db) => db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")));
    expect(Number((await count.takeFirst(database.db))?.n)).toBe(3);
    const prefixed = database.db.withPlugin(statelessPlugin(new TablePrefixPlugin("nope_")));
    await expect(count.takeFirst(prefixed)).rejects.toThrow(/nope_users/);
    expect(Number((await count.takeFirst(database.db))?.n)).toBe(3);
  });
});
