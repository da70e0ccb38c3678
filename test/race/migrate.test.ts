/**
 * Several server processes started at once on a fresh database all migrate it at start-up
 * (src/server.ts → createRuntime → migrate). Two connections opened in this process behave
 * like two processes: each has its own database connection, and the interleaving of their
 * awaits is the race two processes run.
 */
import { afterEach, describe, expect, it } from "vitest";
import { migrate, openDatabase, type Database } from "../../src/store/index.ts";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";

describe("migrating one fresh database from two connections at once", () => {
  let testDatabase: TestDatabase | undefined;
  let connections: Database[] = [];

  afterEach(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    connections = [];
    await testDatabase?.drop();
    testDatabase = undefined;
  });

  async function migrateTwiceAtOnce(dialect: "sqlite" | "postgres"): Promise<void> {
    testDatabase = await createTestDatabase(dialect);
    connections = [openDatabase(testDatabase.url), openDatabase(testDatabase.url)];
    const results = await Promise.allSettled(connections.map((connection) => migrate(connection)));
    expect(results.map((result) => (result.status === "fulfilled" ? "ok" : String(result.reason)))).toEqual(["ok", "ok"]);
    // Every migration applied exactly once, whichever connection applied it.
    const applied = results.flatMap((result) => (result.status === "fulfilled" ? result.value : []));
    expect(new Set(applied).size).toBe(applied.length);
    expect(await migrate(connections[0]!)).toEqual([]);
  }

  it("PostgreSQL: both succeed, each migration applied once (Kysely takes an advisory lock)", async () => {
    await migrateTwiceAtOnce("postgres");
  });

  // Kysely takes no migration lock on SQLite: two connections migrating a fresh file at once
  // collide ("table users already exists"); migrate() waits for the other and tries again.
  it("SQLite: both succeed, each migration applied once", async () => {
    await migrateTwiceAtOnce("sqlite");
  });
});
