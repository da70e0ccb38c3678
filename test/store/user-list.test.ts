import SqliteDatabase from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listUsers, migrate, openDatabase, type Database, type UserListQuery } from "../../src/store/index.ts";
import { listPageQuery, SEARCH_PROBE_ROWS } from "../../src/store/user-list.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";

const NOW = Date.parse("2026-11-22T12:00:00Z");
const USERS = SEARCH_PROBE_ROWS + 1500;

const DEFAULTS = {
  password_hash: "x", role: "user", created_at: NOW, lockout_count: 0, password_failures: 0, password_slots: "[]",
  mfa_failures: 0, mfa_slots: "[]", mfa_enabled: 0, version: 0,
} as const;

interface Seeded { email: string; status: "active" | "locked" | "disabled" }

/** Users whose e-mails put rare matches beyond the probe, and LIKE's special characters. */
function seed(): Seeded[] {
  return Array.from({ length: USERS }, (_, i) => {
    const n = String(i).padStart(5, "0");
    const email = i % 997 === 5 ? `zz_odd%${n}@rare.example` : i % 3 === 0 ? `a${n}@common.example` : `m${n}_x@other.example`;
    const status = i % 11 === 0 ? "disabled" : i % 7 === 0 ? "locked" : "active";
    return { email, status };
  });
}

describe.each(DIALECTS)("listUsers (%s)", (dialect) => {
  let test: TestDatabase;
  let database: Database;
  const users = seed();
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.url);
    await migrate(database);
    for (let i = 0; i < users.length; i += 500) {
      await database.db.insertInto("users").values(users.slice(i, i + 500).map((u, j) => ({
        ...DEFAULTS, id: `u${i + j}`, email: u.email,
        disabled_reason: u.status === "disabled" ? "admin" : null,
        // Every third "active" user had a lock that has since expired.
        locked_until: u.status === "locked" ? NOW + 60_000 : (i + j) % 3 === 1 ? NOW - 60_000 : null,
      }))).execute();
    }
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  const expected = (query: Omit<UserListQuery, "now" | "limit">): string[] => users
    .filter((u) => query.status === undefined || u.status === query.status)
    .filter((u) => query.q === undefined || u.email.includes(query.q.toLowerCase()))
    .map((u) => u.email).sort();

  /** Every page through the keyset, as the API walks it. */
  const walk = async (query: Omit<UserListQuery, "now" | "limit">, limit: number): Promise<string[]> => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await listUsers(database.db, { ...query, after, limit, now: NOW });
      seen.push(...rows.map((r) => r.email));
      if (rows.length < limit) return seen;
      after = rows[rows.length - 1]!.email;
    }
  };

  it("finds the same users as a scan, for common and rare substrings, special characters and statuses", async () => {
    const queries: Array<Omit<UserListQuery, "now" | "limit">> = [
      { q: "zz_odd%" }, { q: "RARE" }, { q: "_x@" }, { q: "a0" }, { q: "common" }, { q: "01234" }, { q: "%" }, { q: "nowhere" },
      { q: "rare", status: "locked" }, { q: "example", status: "disabled" }, { status: "locked" }, { status: "disabled" },
    ];
    for (const query of queries) {
      const first = await listUsers(database.db, { ...query, limit: 50, now: NOW });
      expect(first.map((r) => r.email), JSON.stringify(query)).toEqual(expected(query).slice(0, 50));
    }
    for (const query of [{ q: "rare" }, { status: "locked" as const }, { q: "zz_", status: "disabled" as const }]) {
      expect(await walk(query, 3), JSON.stringify(query)).toEqual(expected(query));
    }
  });

  it("keeps the search index in step with inserts, e-mail changes and deletes", async () => {
    await database.db.insertInto("users").values({ ...DEFAULTS, id: "late", email: "late-comer@rare.example" }).execute();
    expect((await listUsers(database.db, { q: "comer@rare", limit: 5, now: NOW })).map((r) => r.id)).toEqual(["late"]);
    await database.db.updateTable("users").set({ email: "renamed@rare.example" }).where("id", "=", "late").execute();
    expect(await listUsers(database.db, { q: "comer@rare", limit: 5, now: NOW })).toEqual([]);
    expect((await listUsers(database.db, { q: "renamed@", limit: 5, now: NOW })).map((r) => r.id)).toEqual(["late"]);
    await database.db.deleteFrom("users").where("id", "=", "late").execute();
    expect(await listUsers(database.db, { q: "renamed@", limit: 5, now: NOW })).toEqual([]);
  });

  it.runIf(dialect === "sqlite")("walks an index in e-mail order for locked and disabled, with no sort", async () => {
    const raw = new SqliteDatabase(test.url.slice("sqlite:".length), { readonly: true });
    try {
      for (const status of ["locked", "disabled"] as const) {
        const compiled = listPageQuery(database.db, { status, after: "m", limit: 51, now: NOW }).compile();
        const plan = raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters) as Array<{ detail: string }>;
        const details = plan.map((r) => r.detail).join("; ");
        expect(details, status).toContain(status === "locked" ? "users_locked_email" : "users_disabled_email");
        expect(details, status).not.toContain("TEMP B-TREE");
      }
    } finally {
      raw.close();
    }
  });
});
