import SqliteDatabase from "better-sqlite3";
import { sql } from "kysely";
import { Migrator } from "kysely/migration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketRange } from "../../src/http/routes/admin-stats.ts";
import { insertEvents, migrate, openDatabase, topSourceIps, topTargetedAccounts, type Database, type SecurityEvent } from "../../src/store/index.ts";
import { provider } from "../../src/store/migrate.ts";
import { statPruneBatch } from "../../src/store/retention.ts";
import { bucketList, bucketTotalsQuery, counterUnits, exactTotalsQuery } from "../../src/store/stats.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-30T12:00:00Z");

/** Failed logins over two days: a few hot accounts and addresses in a crowd, and some locks. */
function events(count: number): SecurityEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const hot = i % 3 === 0;
    const email = hot ? `target${i % 7}@example.com` : `user${(i * 7919) % 900}@example.com`;
    return {
      type: i % 41 === 0 ? "account.locked" : "login.failed", at: T0 - ((i * 104_729) % (48 * HOUR)),
      userId: `id-${email}`, email, ip: hot ? `203.0.113.${i % 5}` : `198.51.100.${i % 200}`,
      userAgent: null, message: "m", details: {},
    } satisfies SecurityEvent;
  });
}

/** The database as migrations 001–012 left it: counters keyed (kind, res, key, start). */
async function migrateTo012(database: Database): Promise<void> {
  const migrator = new Migrator({ db: database.db, provider: provider(database, ""), allowUnorderedMigrations: true });
  const { error } = await migrator.migrateTo("012-device-user-index");
  if (error) throw error;
}

async function counters(database: Database) {
  return database.db.selectFrom("stat_counts").selectAll()
    .orderBy("kind").orderBy("res").orderBy("key").orderBy("start").execute();
}

/**
 * The top-10 lists as far as they are determined: the counts in rank order, and who leads
 * (beats the tenth). Which of several keys tied with the tenth is shown is up to the plan.
 */
async function tops(database: Database) {
  const lists: Array<{ counts: number[]; leaders: string[] }> = [];
  const determined = (list: ReadonlyArray<{ key: string; failures: number }>) => ({
    counts: list.map((t) => t.failures),
    leaders: list.filter((t) => t.failures > list[list.length - 1]!.failures).map((t) => t.key),
  });
  for (const windowMs of [HOUR, 24 * HOUR, 7 * 24 * HOUR]) {
    const range = bucketRange(windowMs, T0);
    lists.push(determined((await topTargetedAccounts(database.db, range, 10)).map((t) => ({ key: t.email, failures: t.failures }))));
    lists.push(determined((await topSourceIps(database.db, range, 10)).map((t) => ({ key: t.ip, failures: t.failures }))));
  }
  expect(lists.some((list) => list.leaders.length >= 3)).toBe(true);
  return lists;
}

async function keyColumns(database: Database): Promise<{ primaryKey: string; rank: string }> {
  if (database.dialect === "sqlite") {
    const rows = await sql<{ name: string; sql: string }>`SELECT name, sql FROM sqlite_master WHERE tbl_name = 'stat_counts'`.execute(database.db);
    return {
      primaryKey: /primary key \(([^)]*)\)/i.exec(rows.rows.find((r) => r.name === "stat_counts")!.sql)![1]!.replaceAll('"', ""),
      rank: rows.rows.find((r) => r.name === "stat_counts_rank")!.sql,
    };
  }
  const pk = await sql<{ def: string }>`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
    WHERE conrelid = 'stat_counts'::regclass AND contype = 'p'`.execute(database.db);
  const rank = await sql<{ def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'stat_counts_rank'`.execute(database.db);
  return { primaryKey: /\(([^)]*)\)/.exec(pk.rows[0]!.def)![1]!, rank: rank.rows[0]!.def };
}

describe.each(DIALECTS)("migration 013: counters keyed by key first (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it("keeps every counter and every top-10 list, with the key first and no totals in the rank index", async () => {
    await migrateTo012(database);
    const all = events(3000);
    for (let i = 0; i < all.length; i += 200) await insertEvents(database.db, all.slice(i, i + 200));
    const before = await counters(database);
    const topsBefore = await tops(database);
    expect(before.length).toBeGreaterThan(3000);
    expect((await keyColumns(database)).primaryKey).toBe("kind, res, key, start");

    expect(await migrate(database)).toEqual(["013-stat-counts-by-key"]);
    expect(await counters(database)).toEqual(before);
    expect(await tops(database)).toEqual(topsBefore);
    const layout = await keyColumns(database);
    expect(layout.primaryKey).toBe("kind, key, res, start");
    expect(layout.rank).toMatch(/"?kind"?\)? <> 't'/);

    // New failures are counted in the new layout, on the rows the old ones began.
    await insertEvents(database.db, [{ ...events(22)[21]!, at: T0 }]);
    const target = await database.db.selectFrom("stat_counts").select("failures")
      .where("kind", "=", "e").where("key", "=", "target0@example.com").where("res", "=", 86400)
      .where("start", "=", T0 - (T0 % 86_400_000)).executeTakeFirstOrThrow();
    const old = before.find((r) => r.kind === "e" && r.key === "target0@example.com" && Number(r.res) === 86400 && Number(r.start) === T0 - (T0 % 86_400_000));
    expect(Number(target.failures)).toBe(Number(old!.failures) + 1);
  });

  it.runIf(dialect === "sqlite")("reads every counter query through an index, and the lists without a sort", () => {
    const raw = new SqliteDatabase(test.url.slice("sqlite:".length), { readonly: true });
    const plan = (query: { compile(): { sql: string; parameters: readonly unknown[] } }): string => {
      const compiled = query.compile();
      return (raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters) as Array<{ detail: string }>)
        .map((r) => r.detail).join("; ");
    };
    try {
      const range = bucketRange(24 * HOUR, T0 - 12_345);
      const units = counterUnits(range);
      const list = plan(bucketList(database.db, "e", units[0]!, 64));
      expect(list).toContain("stat_counts_rank");
      expect(list).not.toContain("TEMP B-TREE");
      expect(plan(exactTotalsQuery(database.db, "e", units, ["a@example.com", "b@example.com"]))).toMatch(/SEARCH stat_counts USING PRIMARY KEY \(kind=\? AND key=\?/);
      expect(plan(bucketTotalsQuery(database.db, range))).toMatch(/SEARCH stat_counts USING PRIMARY KEY \(kind=\? AND key=\? AND res=\? AND start>\? AND start<\?\)/);
      for (const kind of ["t", "e", "i"] as const) {
        const prune = plan(statPruneBatch(database.db, kind, 300, T0, 500));
        expect(prune, kind).not.toMatch(/SCAN stat_counts(?! USING)/);
        expect(prune, kind).toContain(kind === "t" ? "PRIMARY KEY" : "stat_counts_rank");
      }
    } finally {
      raw.close();
    }
  });
});
