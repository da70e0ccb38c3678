import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countUsers, findOrInsertUser, insertUser, insertUsersSkippingExisting, migrate, openDatabase, type Database, type NewUser,
} from "../../src/store/index.ts";
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
