/**
 * `npm run bench -- --scale N`: the console's requests at N users and 2N failed logins in the
 * last 24 h against the same requests at 1,000 users, on SQLite and PostgreSQL, in one run,
 * over HTTP to a server process; the sizes per user and event; login latency while pruning.
 * Seeding is bulk SQL (one shared password hash, counters rebuilt by the migration's backfill).
 */
import { sql } from "kysely";
import { loadavg } from "node:os";
import { bucketRange } from "../src/http/routes/admin-stats.ts";
import {
  countEventsByBucket, countUsers, migrate, openDatabase, topSourceIps, topTargetedAccounts, type Database,
} from "../src/store/index.ts";
import { backfillStatCounts } from "../src/store/migrations/007-scale.ts";
import { createTestDatabase } from "../test/support/databases.ts";
import { httpTimings } from "./scale-http.ts";
import { fixed, percentile, table } from "./stats.ts";

const NOW = Date.now();
const DAY = 86_400_000;
/** Rows per INSERT … SELECT statement; each statement is its own transaction. */
const CHUNK = 100_000;

/** The integers [from, to) as a row source `s(n)`: one statement seeds a chunk, no row leaves the database. */
function series(dialect: "sqlite" | "postgres", from: number, to: number) {
  return dialect === "postgres"
    ? sql`SELECT n FROM generate_series(${sql.lit(from)}::bigint, ${sql.lit(to - 1)}::bigint) AS s(n)`
    : sql`WITH RECURSIVE s(n) AS (SELECT ${sql.lit(from)} UNION ALL SELECT n + 1 FROM s WHERE n < ${sql.lit(to - 1)}) SELECT n FROM s`;
}

/**
 * N users (1 in 200 disabled, 1 in 100 locked now, 1 in 20 with an expired lock) and 2N failed
 * logins spread over the last 24 h: 20 % on 10 targeted accounts from 6 addresses, the rest on
 * every account from many addresses. Bulk SQL: 1,000,000 users seed in minutes, not hours.
 */
export async function seed(database: Database, users: number, measure: () => Promise<number>): Promise<{ users: number; events: number }> {
  const db = database.db;
  const n = sql.raw("s.n");
  for (let i = 0; i < users; i += CHUNK) {
    await sql`INSERT INTO users (id, email, password_hash, role, created_at, lockout_count, password_failures, password_slots,
        mfa_failures, mfa_slots, mfa_enabled, version, disabled_reason, locked_until)
      SELECT 'u' || ${n}, 'user' || ${n} || '@example' || (${n} % 50) || '.com', '$argon2id$shared', 'user', ${sql.lit(NOW - 30 * DAY)},
        0, 0, '[]', 0, '[]', 0, 0, CASE WHEN ${n} % 200 = 0 THEN 'admin' END,
        CASE WHEN ${n} % 100 = 1 THEN ${sql.lit(NOW + 600_000)} WHEN ${n} % 20 = 2 THEN ${sql.lit(NOW - DAY)} END
      FROM (${series(database.dialect, i, Math.min(users, i + CHUNK))}) AS s`.execute(db);
  }
  const afterUsers = await measure();
  const events = users * 2;
  for (let i = 0; i < events; i += CHUNK) {
    // hot: 1 event in 5 (the user is n % 50, so 10 accounts; the address n % 30, so 6 addresses).
    const user = sql`(CASE WHEN ${n} % 5 = 0 THEN ${n} % 50 ELSE (${n} * 7919) % ${sql.lit(users)} END)`;
    await sql`INSERT INTO events (type, at, user_id, email, ip, user_agent, message, details)
      SELECT 'login.failed', ${sql.lit(NOW)} - ((${n} * 104729) % 1000) * ${sql.lit(DAY / 1000)}, 'u' || ${user},
        'user' || ${user} || '@example' || (${user} % 50) || '.com',
        CASE WHEN ${n} % 5 = 0 THEN '203.0.113.' || (${n} % 30)
          ELSE '10.' || (${n} % 200) || '.' || ((${n} / 256) % 250) || '.' || (${n} % 251) END,
        NULL, 'wrong password', '{}'
      FROM (${series(database.dialect, i, Math.min(events, i + CHUNK))}) AS s`.execute(db);
  }
  await db.deleteFrom("stat_counts").execute();
  await backfillStatCounts(db);
  // What autovacuum would have done by now (this machine's server runs with it off): without
  // the visibility map, PostgreSQL's index-only counts fetch every row from the heap.
  await sql.raw(database.dialect === "postgres" ? "VACUUM (ANALYZE)" : "ANALYZE").execute(db);
  return { users: afterUsers, events: await measure() };
}

/** Bytes the database takes now (SQLite: its pages; PostgreSQL: the whole database). */
async function size(database: Database): Promise<number> {
  const query = database.dialect === "postgres"
    ? sql<{ n: number }>`SELECT pg_database_size(current_database()) AS n`
    : sql<{ n: number }>`SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()`;
  return Number((await query.execute(database.db)).rows[0]?.n);
}

/** The store-level cost of the stats request (its four queries), p95 of 15 ms, for comparison with HTTP. */
async function storeStats(database: Database): Promise<number> {
  const db = database.db;
  const range = bucketRange(DAY, NOW);
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    await Promise.all([countEventsByBucket(db, range), countUsers(db, NOW), topTargetedAccounts(db, range, 10), topSourceIps(db, range, 10)]);
    samples.push(performance.now() - started);
  }
  return percentile(samples, 95);
}

async function onDialect(dialect: "sqlite" | "postgres", scale: number): Promise<string[][]> {
  const results: Array<Record<string, number>> = [];
  for (const users of [1000, scale]) {
    const test = await createTestDatabase(dialect);
    const database = openDatabase(test.url);
    try {
      await migrate(database);
      const seeded = performance.now();
      const empty = await size(database);
      const sizes = await seed(database, users, () => size(database));
      console.log(`  ${dialect}: seeded ${users} users, ${users * 2} events in ${fixed((performance.now() - seeded) / 1000)} s`);
      const result: Record<string, number> = {
        "bytes per user (row, indexes, search index)": (sizes.users - empty) / users,
        "bytes per failed-login event (row, indexes, counters)": (sizes.events - sizes.users) / (2 * users),
        "stats, store level (4 queries)": await storeStats(database),
      };
      Object.assign(result, await httpTimings(database, test.url, NOW));
      results.push(result);
    } finally {
      await database.close();
      await test.drop();
    }
  }
  return Object.keys(results[1] ?? {}).map((key) => [`${dialect}: ${key}`, fixed(results[0]?.[key] ?? NaN), fixed(results[1]?.[key] ?? NaN)]);
}

export async function runScale(scale: number): Promise<void> {
  console.log(`deadbolt scale bench: ${scale} users, ${2 * scale} failed logins in 24 h; 1-min load ${fixed(loadavg()[0] ?? NaN, 2)}`);
  const rows = [...await onDialect("sqlite", scale), ...await onDialect("postgres", scale)];
  console.log(table([["request over HTTP (p95 ms of 15, unless said)", "1k users", `${scale} users`], ...rows]));
  console.log("  login: the admin signing in (one real argon2 verification), one at a time; 'while pruning': during a retention");
  console.log("  prune of half a day of events and their counters (SQLite: batches of about 10 ms; PostgreSQL: of 500) run by the bench on the same database.");
  console.log(`1-min load ${fixed(loadavg()[0] ?? NaN, 2)}`);
}
