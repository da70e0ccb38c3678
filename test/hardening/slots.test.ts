/**
 * Issue 8, defect 4: a verification slot is given back on every path, and the slots of a
 * process that died stop refusing a correct password within seconds, while a live owner's
 * slots still count (never more than `threshold` verifications).
 */
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { guardSecret, type GuardRequest } from "../../src/auth/index.ts";
import { createInstance, INSTANCE_TTL_MS } from "../../src/auth/instance.ts";
import { findUserByEmail, heartbeat, type UserRow } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const EMAIL = "slots@example.com";
const RIGHT = "a right passphrase";

async function exec(t: TestApp, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(t.auth.database.db);
}

/** Makes every INSERT (or UPDATE) on `table` fail, as a database blip would, until `heal`. */
async function breakWrites(t: TestApp, table: string, op: "INSERT" | "UPDATE"): Promise<void> {
  const name = `fail_${table}_${op.toLowerCase()}`;
  if (t.database.dialect === "sqlite") {
    await exec(t, [`CREATE TRIGGER ${name} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`]);
  } else {
    await exec(t, [
      "CREATE OR REPLACE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
      `CREATE TRIGGER ${name} BEFORE ${op} ON ${table} FOR EACH ROW EXECUTE FUNCTION injected_failure()`,
    ]);
  }
}

async function heal(t: TestApp, table: string, op: "INSERT" | "UPDATE"): Promise<void> {
  const name = `fail_${table}_${op.toLowerCase()}`;
  await exec(t, [t.database.dialect === "sqlite" ? `DROP TRIGGER ${name}` : `DROP TRIGGER ${name} ON ${table}`]);
}

async function row(t: TestApp): Promise<UserRow> {
  const found = await findUserByEmail(t.auth.database.db, EMAIL);
  if (!found) throw new Error("no user");
  return found;
}

function attempt(user: UserRow, verify: GuardRequest["verify"]): GuardRequest {
  return { userId: user.id, user, factor: "password", verify, client: { ip: "192.0.2.8", userAgent: null }, via: "login", onSuccess: "complete_login" };
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - started;
}

async function timedLogin(t: TestApp): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await postLogin(t.app, EMAIL, RIGHT);
  return { status: response.statusCode, ms: performance.now() - started };
}

describe.each(DIALECTS)("verification slots (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function setup(): Promise<UserRow> {
    // One attempt at a time: a single held slot refuses everybody, so a leak cannot hide.
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: "1" } });
    return t.createUser(EMAIL, RIGHT);
  }

  it("a database error while recording a failure gives the slot back and counts nothing", async () => {
    const user = await setup();
    const outcome = guardSecret(t.auth, attempt(user, async () => {
      await breakWrites(t, "events", "INSERT");
      return false;
    }));
    await expect(outcome).rejects.toThrow(/injected failure/);
    await heal(t, "events", "INSERT");
    const after = await row(t);
    expect(JSON.parse(after.password_slots)).toEqual([]);
    expect(after.password_failures).toBe(0);
    const login = await timedLogin(t);
    expect(login.status).toBe(200);
    expect(login.ms).toBeLessThan(5_000);
  });

  it("a slot whose release also failed is released once the database is back, within seconds", async () => {
    const user = await setup();
    const outcome = guardSecret(t.auth, attempt(user, async () => {
      await breakWrites(t, "events", "INSERT");
      await breakWrites(t, "users", "UPDATE");
      return true;
    }));
    await expect(outcome).rejects.toThrow(/injected failure/);
    expect(JSON.parse((await row(t)).password_slots)).toHaveLength(1);
    await heal(t, "events", "INSERT");
    await heal(t, "users", "UPDATE");
    await until(async () => (JSON.parse((await row(t)).password_slots) as unknown[]).length === 0, 3_000);
    expect((await timedLogin(t)).status).toBe(200);
  });

  it("a slot held by an instance that is not alive is reclaimed at once", async () => {
    const user = await setup();
    const ghost = [{ id: "ghost-slot", expiresAt: t.clock.now() + 10 * 60_000, owner: "killed-instance" }];
    await t.auth.database.db.updateTable("users").set({ password_slots: JSON.stringify(ghost) }).where("id", "=", user.id).execute();
    const login = await timedLogin(t);
    expect(login.status).toBe(200);
    expect(login.ms).toBeLessThan(5_000);
  });

  it("a live owner's slot still counts; once its heartbeat stops, the slot is free within the TTL", async () => {
    const user = await setup();
    const other = { id: "other-instance", host: "elsewhere", pid: 1, startedAt: 0 };
    const { db, dialect: d } = t.auth.database;
    await heartbeat(db, d, other);
    const beating = setInterval(() => void heartbeat(db, d, other).catch(() => {}), 300);
    try {
      const held = [{ id: "held-slot", expiresAt: t.clock.now() + 10 * 60_000, owner: other.id }];
      await db.updateTable("users").set({ password_slots: JSON.stringify(held) }).where("id", "=", user.id).execute();
      let verified = 0;
      const result = await guardSecret({ ...t.auth, slotWaitMs: 600 }, attempt(await row(t), async () => {
        verified++;
        return true;
      }));
      // Threshold 1 and one verification in flight elsewhere: this one must not run.
      expect(result.kind).toBe("busy");
      expect(verified).toBe(0);
    } finally {
      clearInterval(beating);
    }
    const stoppedAt = performance.now();
    const login = await timedLogin(t);
    const waited = performance.now() - stoppedAt;
    expect(login.status).toBe(200);
    expect(waited).toBeLessThan(INSTANCE_TTL_MS + 2_000);
    expect(waited).toBeGreaterThan(INSTANCE_TTL_MS - 1_500);
  });

  it("a process that cannot write its heartbeat does not verify, and says so as unavailable", async () => {
    const user = await setup();
    let clock = 0;
    const instance = createInstance(t.auth.database, { id: "frozen", log: t.auth.log, now: t.clock.now, monotonic: () => clock });
    await instance.start();
    try {
      expect(instance.isFresh()).toBe(true);
      clock += 5_000;
      expect(instance.isFresh()).toBe(false);
      await breakWrites(t, "instances", "UPDATE");
      let verified = 0;
      const outcome = guardSecret({ ...t.auth, instance }, attempt(user, async () => {
        verified++;
        return true;
      }));
      await expect(outcome).rejects.toMatchObject({ code: "database_unavailable" });
      expect(verified).toBe(0);
      await heal(t, "instances", "UPDATE");
      expect(await instance.refresh()).toBe(true);
      expect(instance.isFresh()).toBe(true);
    } finally {
      await instance.stop();
    }
    const rows = await t.auth.database.db.selectFrom("instances").select("id").execute();
    expect(rows.map((r) => r.id)).not.toContain("frozen");
  });
});
