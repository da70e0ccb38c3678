import SqliteDatabase from "better-sqlite3";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countUsers, findOrInsertUser, insertUser, insertUsersSkippingExisting, migrate, openDatabase, type Database, type NewUser,
} from "../../src/store/index.ts";
import { lockedNowCount } from "../../src/store/stats.ts";
import { newUserValues } from "../../src/store/users.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const NOW = Date.parse("2026-11-22T12:00:00Z");

function user(n: number): NewUser {
  return { id: `id-${n}`, email: `user${n}@example.com`, passwordHash: "$argon2id$x", role: "user", now: NOW };
}

describe.each(DIALECTS)("the user tally (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  const expectTally = async (label: string): Promise<void> => {
    const counted = await database.db.selectFrom("users").select(sql<number>`COUNT(*)`.as("n")).executeTakeFirstOrThrow();
    expect((await countUsers(database.db, NOW)).totalUsers, label).toBe(Number(counted.n));
  };

  it("agrees with COUNT(*) through single, bulk, skipped and concurrent inserts and deletes", async () => {
    await expectTally("empty");
    await insertUser(database.db, user(1));
    await findOrInsertUser(database.db, user(1)); // exists: no row, no change
    await findOrInsertUser(database.db, user(2));
    await expectTally("single");
    // A bulk statement whose conflicting e-mails are skipped counts only what it inserted.
    await database.db.transaction().execute((trx) => insertUsersSkippingExisting(trx, dialect,
      Array.from({ length: 300 }, (_, i) => user(i)), () => []));
    await expectTally("bulk");
    await database.db.insertInto("users").values({ ...newUserValues(user(1)), id: "dup" }).onConflict((oc) => oc.column("email").doNothing()).execute();
    await expectTally("conflict");
    await Promise.all(Array.from({ length: 20 }, (_, i) => insertUser(database.db, user(1000 + i))));
    await expectTally("concurrent");
    await database.db.deleteFrom("users").where("email", "like", "user1%").execute();
    await expectTally("bulk delete");
    await database.db.deleteFrom("users").where("id", "=", "id-2").execute();
    await database.db.deleteFrom("users").where("id", "=", "none").execute();
    await expectTally("single delete");
  });

  it("folds PostgreSQL's delta rows into one without losing any", async () => {
    await Promise.all(Array.from({ length: 150 }, (_, i) => insertUser(database.db, user(5000 + i))));
    await expectTally("before the fold");
    await expectTally("after the fold");
    const rows = await database.db.selectFrom("user_tally").select(sql<number>`COUNT(*)`.as("n")).executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBe(1);
  });
});

describe.each(DIALECTS)("the locked and disabled counts (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it("count as a scan does, the locked ones from an index of locked, not disabled users alone", async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    // Locked now, locked and disabled, lock expired, lock ending exactly now, disabled, neither.
    const kinds = [
      { locked_until: NOW + 60_000, disabled_reason: null }, { locked_until: NOW + 60_000, disabled_reason: "admin" },
      { locked_until: NOW - 60_000, disabled_reason: null }, { locked_until: NOW, disabled_reason: null },
      { locked_until: null, disabled_reason: "admin" }, { locked_until: null, disabled_reason: null },
    ];
    for (let i = 0; i < 60; i++) await insertUser(database.db, user(i));
    for (let i = 0; i < 60; i++) await database.db.updateTable("users").set(kinds[i % kinds.length]!).where("id", "=", `id-${i}`).execute();
    expect(await countUsers(database.db, NOW)).toEqual({ totalUsers: 60, lockedNow: 10, disabledNow: 20 });
    expect((await countUsers(database.db, NOW + 60_000)).lockedNow).toBe(0);
    if (dialect !== "sqlite") return;
    const compiled = lockedNowCount(database.db, NOW).compile();
    const raw = new SqliteDatabase(test.url.slice("sqlite:".length), { readonly: true });
    try {
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters) as Array<{ detail: string }>;
      expect(plan.map((r) => r.detail).join("; ")).toMatch(/USING (COVERING )?INDEX users_locked_now/);
    } finally {
      raw.close();
    }
  });
});
