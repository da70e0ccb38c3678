/**
 * `npm run bench -- --scale N`: the console's requests at N users and 2N failed logins in the
 * last 24 h against the same requests at 1,000 users, on SQLite and PostgreSQL, in one run.
 * Seeding is bulk SQL (one shared password hash, counters rebuilt by the migration's backfill).
 */
import { sql } from "kysely";
import { loadavg } from "node:os";
import { bucketRange } from "../src/http/routes/admin-stats.ts";
import {
  countEventsByBucket, countUsers, listUsers, migrate, openDatabase, pruneExpired, topSourceIps, topTargetedAccounts, type Database,
} from "../src/store/index.ts";
import { backfillStatCounts } from "../src/store/migrations/007-scale.ts";
import { createTestDatabase } from "../test/support/databases.ts";
import { fixed, table } from "./stats.ts";

const NOW = Date.now();
const DAY = 86_400_000;
const CHUNK = 500;

async function seed(database: Database, users: number): Promise<void> {
  const base = { password_hash: "$argon2id$shared", role: "user", created_at: NOW - 30 * DAY, lockout_count: 0, password_failures: 0,
    password_slots: "[]", mfa_failures: 0, mfa_slots: "[]", mfa_enabled: 0, version: 0 };
  for (let i = 0; i < users; i += CHUNK * 4) {
    await database.db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(users, i + CHUNK * 4); j += CHUNK) {
        await trx.insertInto("users").values(Array.from({ length: Math.min(CHUNK, users - j) }, (_, k) => {
          const n = j + k;
          return { ...base, id: `u${n}`, email: `user${n}@example${n % 50}.com`,
            disabled_reason: n % 200 === 0 ? "admin" : null,
            locked_until: n % 100 === 1 ? NOW + 600_000 : n % 20 === 2 ? NOW - DAY : null };
        })).execute();
      }
    });
  }
  // 2 failures per user in the last 24 h: 20 % on 50 targeted accounts from 30 addresses.
  const events = users * 2;
  for (let i = 0; i < events; i += CHUNK * 4) {
    await database.db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(events, i + CHUNK * 4); j += CHUNK) {
        await trx.insertInto("events").values(Array.from({ length: Math.min(CHUNK, events - j) }, (_, k) => {
          const n = j + k;
          const hot = n % 5 === 0;
          const user = hot ? n % 50 : (n * 7919) % users;
          return { type: "login.failed", at: NOW - Math.floor(((n * 104729) % 1000) / 1000 * DAY), user_id: `u${user}`,
            email: `user${user}@example${user % 50}.com`, ip: hot ? `203.0.113.${n % 30}` : `10.${n % 200}.${(n >> 8) % 250}.${n % 251}`,
            user_agent: null, message: "wrong password", details: "{}" };
        })).execute();
      }
    });
  }
  await database.db.deleteFrom("stat_counts").execute();
  await backfillStatCounts(database.db);
  if (database.dialect === "postgres") await sql`ANALYZE`.execute(database.db);
  else await sql`ANALYZE`.execute(database.db);
}

async function p95(run: () => Promise<unknown>, times = 15): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.95))] ?? Number.NaN;
}

async function measure(database: Database): Promise<Record<string, number>> {
  const db = database.db;
  const range = bucketRange(DAY, NOW);
  const stats = () => Promise.all([countEventsByBucket(db, range), countUsers(db, NOW), topTargetedAccounts(db, range, 10), topSourceIps(db, range, 10)]);
  const first = await listUsers(db, { status: "locked", limit: 51, now: NOW });
  const after = first[49]?.email;
  return {
    "stats ?window=24h (charts, counts, top 10s)": await p95(stats),
    "users ?status=locked&limit=50": await p95(() => listUsers(db, { status: "locked", limit: 51, now: NOW })),
    "same, second page": await p95(() => listUsers(db, { status: "locked", limit: 51, after, now: NOW })),
    "users ?status=disabled&limit=50": await p95(() => listUsers(db, { status: "disabled", limit: 51, now: NOW })),
    "search q=user12 (common prefix)": await p95(() => listUsers(db, { q: "user12", limit: 51, now: NOW })),
    "search q=er99999@ (rare substring)": await p95(() => listUsers(db, { q: "er99999@", limit: 51, now: NOW })),
  };
}

async function onDialect(dialect: "sqlite" | "postgres", scale: number): Promise<string[][]> {
  const results: Array<Record<string, number>> = [];
  for (const users of [1000, scale]) {
    const test = await createTestDatabase(dialect);
    const database = openDatabase(test.url);
    try {
      await migrate(database);
      const seeded = performance.now();
      await seed(database, users);
      console.log(`  ${dialect}: seeded ${users} users, ${users * 2} events in ${fixed((performance.now() - seeded) / 1000)} s`);
      results.push(await measure(database));
      const pruned = performance.now();
      await pruneExpired(database.db, { now: NOW + DAY / 2, retentionMs: DAY });
      results[results.length - 1]!["prune half a day of events (batches of 500)"] = performance.now() - pruned;
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
  console.log(table([["request (store level, p95 ms of 15)", "1k users", `${scale} users`], ...rows]));
  console.log(`1-min load ${fixed(loadavg()[0] ?? NaN, 2)}`);
}
