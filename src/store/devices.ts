import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { DeviceState } from "../lockout/index.ts";
import { prepared } from "./prepared.ts";
import type { DevicesTable, Schema } from "./schema.ts";
import { parseSlots } from "./users.ts";

export type DeviceRow = Selectable<DevicesTable>;
type Db = Kysely<Schema>;

/** The engine's view of a stored device. */
export function deviceStateOf(row: DeviceRow): DeviceState {
  return {
    lockedUntil: row.locked_until,
    password: {
      failures: row.password_failures,
      lastFailedAt: row.password_last_failed_at,
      slots: parseSlots(row.password_slots),
    },
  };
}

export interface DeviceWrite {
  readonly device: DeviceState;
  /** Set on a completed sign-in (and when a client is trusted again). */
  readonly usedAt?: { readonly now: number; readonly ip: string | null; readonly userAgent: string | null };
}

/**
 * Compare-and-set on the device's version, exactly as `compareAndSetLockout` on the account:
 * the write that makes concurrent attempts with one device race-proof across processes.
 * Returns the row as written, or undefined when another attempt won (or the device was forgotten).
 */
const setDevice = prepared((db: Db, id: string, version: number, columns: Updateable<DevicesTable>) =>
  db.updateTable("devices").set(columns).where("id", "=", id).where("version", "=", version).returningAll());

export async function compareAndSetDevice(db: Db, previous: DeviceRow, write: DeviceWrite): Promise<DeviceRow | undefined> {
  const { device, usedAt } = write;
  return setDevice.takeFirst(db, previous.id, previous.version, {
    locked_until: device.lockedUntil,
    password_failures: device.password.failures,
    password_last_failed_at: device.password.lastFailedAt,
    password_slots: JSON.stringify(device.password.slots),
    ...(usedAt ? { last_used_at: usedAt.now, ip: usedAt.ip, user_agent: usedAt.userAgent } : {}),
    version: previous.version + 1,
  });
}

const deviceById = prepared((db: Db, id: string) => db.selectFrom("devices").selectAll().where("id", "=", id));
const deviceOfUser = prepared((db: Db, tokenHash: string, userId: string) =>
  db.selectFrom("devices").selectAll().where("token_hash", "=", tokenHash).where("user_id", "=", userId));

export async function findDevice(db: Db, id: string): Promise<DeviceRow | undefined> {
  return deviceById.takeFirst(db, id);
}

/** The device row of this browser token for this user, if the user trusts it. */
export async function findUserDevice(db: Db, userId: string, tokenHash: string): Promise<DeviceRow | undefined> {
  return deviceOfUser.takeFirst(db, tokenHash, userId);
}

export interface NewDevice {
  readonly id: string;
  readonly tokenHash: string;
  readonly userId: string;
  readonly now: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

const deviceInsert = prepared((db: Db, row: Insertable<DevicesTable>) =>
  db.insertInto("devices").values(row).onConflict((oc) => oc.columns(["token_hash", "user_id"]).doNothing()).returningAll());

const deviceUsed = prepared((db: Db, tokenHash: string, userId: string, used: Updateable<DevicesTable>) =>
  db.updateTable("devices").set(used).where("token_hash", "=", tokenHash).where("user_id", "=", userId).returningAll());

/**
 * Trusts a browser token for a user; a token it already trusts is only marked used.
 * Returns the row and whether it is new (an insert that lost a concurrent race is not new).
 */
export async function upsertDevice(db: Db, device: NewDevice): Promise<{ row: DeviceRow; created: boolean }> {
  const inserted = await deviceInsert.takeFirst(db, {
    id: device.id, token_hash: device.tokenHash, user_id: device.userId, created_at: device.now,
    last_used_at: device.now, ip: device.ip, user_agent: device.userAgent, locked_until: null,
    password_failures: 0, password_last_failed_at: null, password_slots: "[]", version: 0,
  });
  if (inserted) return { row: inserted, created: true };
  const row = await deviceUsed.takeFirst(db, device.tokenHash, device.userId, { last_used_at: device.now, ip: device.ip, user_agent: device.userAgent });
  if (!row) throw new Error("a trusted device vanished while it was being trusted");
  return { row, created: false };
}

/** A user's devices, most recently used first. */
export async function listUserDevices(db: Db, userId: string): Promise<DeviceRow[]> {
  return db.selectFrom("devices").selectAll().where("user_id", "=", userId)
    .orderBy("last_used_at", "desc").orderBy("id").execute();
}

export async function countUserDevices(db: Db, userIds: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (userIds.length === 0) return counts;
  const rows = await db.selectFrom("devices")
    .select(["user_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("user_id", "in", userIds).groupBy("user_id").execute();
  for (const row of rows) counts.set(row.user_id, Number(row.n));
  return counts;
}

/** Forgets one device of a user; false when it is not theirs (or already gone). */
export async function deleteUserDevice(db: Db, userId: string, id: string): Promise<DeviceRow | undefined> {
  return db.deleteFrom("devices").where("user_id", "=", userId).where("id", "=", id).returningAll().executeTakeFirst();
}

/** Forgets every device of a user, optionally keeping the one with this token. Returns how many went. */
export async function deleteUserDevices(db: Db, userId: string, options: { keepTokenHash?: string } = {}): Promise<number> {
  let query = db.deleteFrom("devices").where("user_id", "=", userId);
  if (options.keepTokenHash !== undefined) query = query.where("token_hash", "<>", options.keepTokenHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
