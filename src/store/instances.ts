import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Dialect } from "./dialect.ts";
import type { Schema } from "./schema.ts";

type Db = Kysely<Schema>;

/** Rows of instances silent for this long are deleted when another instance starts. */
const FORGOTTEN_AFTER_MS = 60 * 60_000;

/**
 * The database's clock in epoch milliseconds. Heartbeats are written and judged by the same
 * clock, so instances on hosts whose clocks disagree still agree on who is alive.
 */
function databaseNow(dialect: Dialect): RawBuilder<number> {
  return dialect === "postgres"
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
}

export interface InstanceRecord {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
}

/** Writes (or re-creates) the instance's row with a fresh heartbeat. */
export async function heartbeat(db: Db, dialect: Dialect, instance: InstanceRecord): Promise<void> {
  await db.insertInto("instances")
    .values({
      id: instance.id, host: instance.host, pid: instance.pid, started_at: instance.startedAt,
      heartbeat_at: databaseNow(dialect),
    })
    .onConflict((oc) => oc.column("id").doUpdateSet({ heartbeat_at: databaseNow(dialect) }))
    .execute();
}

/** Which of `ids` heartbeated within the last `ttlMs` (by the database's clock). */
export async function liveInstances(db: Db, dialect: Dialect, ids: readonly string[], ttlMs: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom("instances").select("id")
    .where("id", "in", ids)
    .where("heartbeat_at", ">", sql<number>`${databaseNow(dialect)} - ${ttlMs}`)
    .execute();
  return rows.map((row) => row.id);
}

/** A stopping instance says so at once: its (released) slots need no waiting for. */
export async function removeInstance(db: Db, id: string): Promise<void> {
  await db.deleteFrom("instances").where("id", "=", id).execute();
}

/** Deletes the rows of instances that have been silent for an hour. */
export async function forgetSilentInstances(db: Db, dialect: Dialect): Promise<void> {
  await db.deleteFrom("instances")
    .where("heartbeat_at", "<", sql<number>`${databaseNow(dialect)} - ${FORGOTTEN_AFTER_MS}`)
    .execute();
}
