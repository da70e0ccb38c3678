import { randomUUID } from "node:crypto";
import {
  countUserDevices, deleteUserDevice, deleteUserDevices, findUserByEmail, findUserDevice, listUserDevices, normalizeEmail,
  upsertDevice, type DeviceRow, type Schema, type SecurityEvent, type UserRow,
} from "../store/index.ts";
import type { Kysely } from "kysely";
import type { AuthContext, Client } from "./context.ts";
import { eventFor, recordEvents } from "./record.ts";
import { hashToken } from "./sessions.ts";

/** 256 random bits in base64url: what `deadbolt_device` and `deviceToken` carry. */
const DEVICE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const DEVICE_TOKEN_BYTES = 32;

/** Who forgot a device, for the audit trail (structurally an `Actor`). */
export interface DeviceActor {
  readonly by: "user" | "admin" | "cli" | "password_reset";
  readonly email?: string;
  readonly client: Client;
}

/** A trusted device as the API, the CLI and `/account` show it. */
export interface DeviceView {
  readonly id: string;
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** True for the device the request itself presents. */
  readonly current: boolean;
}

export function isDeviceTokenShaped(token: string | null | undefined): token is string {
  return typeof token === "string" && DEVICE_TOKEN_PATTERN.test(token);
}

/**
 * The device this user trusts that the client presents (cookie or `deviceToken`), or null:
 * no token, a malformed one, one this user never trusted, or DEADBOLT_DEVICE_TRUST=off.
 */
export async function findTrustedDevice(ctx: AuthContext, userId: string, token: string | null | undefined): Promise<DeviceRow | null> {
  if (!ctx.deviceTrust || !isDeviceTokenShaped(token)) return null;
  return (await findUserDevice(ctx.database.db, userId, hashToken(token))) ?? null;
}

/**
 * Does this request present a device trusted by this user? For the per-client throttle's
 * exemption and the verification lane, which must ask before any hashing. Takes the user's id
 * or e-mail; an unknown e-mail is simply not trusted.
 *
 * @example if (await presentsTrustedDevice(auth, { email }, deviceTokenOf(request))) skipThrottle();
 */
export async function presentsTrustedDevice(
  ctx: AuthContext, user: { readonly userId: string } | { readonly email: string }, token: string | null | undefined,
): Promise<boolean> {
  if (!ctx.deviceTrust || !isDeviceTokenShaped(token)) return false;
  let userId: string;
  if ("userId" in user) {
    userId = user.userId;
  } else {
    const row = await findUserByEmail(ctx.database.db, normalizeEmail(user.email));
    if (!row) return false;
    userId = row.id;
  }
  return (await findTrustedDevice(ctx, userId, token)) !== null;
}

/**
 * Whether a sign-in came from a trusted device, for the new-device notice: only a pathway that
 * knows devices (it passed a token, or null for none) can tell, and with DEADBOLT_DEVICE_TRUST=off
 * no device is ever trusted, so mailing would mean one notice per sign-in.
 */
export function trustedForNotice(ctx: AuthContext, token: string | null | undefined, device: DeviceRow | null): boolean | undefined {
  if (token === undefined || !ctx.deviceTrust) return undefined;
  return device !== null;
}

/**
 * Makes the client a trusted device of `user` (after a full sign-in, or redeeming an unlock or
 * reset link) and returns the token it must keep: the one it presented if well formed (one
 * browser, several users), else a new one. Null when DEADBOLT_DEVICE_TRUST=off.
 */
export async function trustClient(
  ctx: AuthContext, user: UserRow, input: TrustInput,
): Promise<string | null> {
  const { token, events } = await trustClientWrites(ctx, ctx.database.db, user, input);
  if (events.length > 0) await recordEvents(ctx, events);
  return token;
}

type TrustInput = { readonly token: string | null | undefined; readonly client: Client; readonly via: string };

/** trustClient's device write through `db` (a transaction); the events are the caller's to insert and log. */
export async function trustClientWrites(
  ctx: AuthContext, db: Kysely<Schema>, user: UserRow, input: TrustInput,
): Promise<{ readonly token: string | null; readonly events: SecurityEvent[] }> {
  if (!ctx.deviceTrust) return { token: null, events: [] };
  const token = isDeviceTokenShaped(input.token) ? input.token : ctx.randomBytes(DEVICE_TOKEN_BYTES).toString("base64url");
  const now = ctx.now();
  const { row, created } = await upsertDevice(db, {
    id: randomUUID(), tokenHash: hashToken(token), userId: user.id, now, ip: input.client.ip, userAgent: input.client.userAgent,
  });
  const events = created
    ? [eventFor("device.trusted", { user }, input.client, now, `this client is now a trusted device of the account (${input.via})`,
        { deviceId: row.id, via: input.via })]
    : [];
  return { token, events };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toDeviceView(row: DeviceRow, currentToken: string | null | undefined): DeviceView {
  const current = isDeviceTokenShaped(currentToken) && hashToken(currentToken) === row.token_hash;
  return {
    id: row.id, createdAt: iso(row.created_at), lastUsedAt: iso(row.last_used_at), ip: row.ip, userAgent: row.user_agent, current,
  };
}

/** A user's trusted devices, most recently used first; `current` marks the one presented. */
export async function listDevices(ctx: AuthContext, userId: string, currentToken: string | null | undefined): Promise<DeviceView[]> {
  return (await listUserDevices(ctx.database.db, userId)).map((row) => toDeviceView(row, currentToken));
}

/** How many devices each user trusts (U's `trustedDevices`). */
export function countDevices(ctx: AuthContext, userIds: readonly string[]): Promise<Map<string, number>> {
  return countUserDevices(ctx.database.db, userIds);
}

function actorWords(actor: DeviceActor): string {
  switch (actor.by) {
    case "user": return "by the user";
    case "admin": return `by admin ${actor.email ?? "(unknown)"}`;
    case "cli": return "from the command line";
    case "password_reset": return "by a password reset";
  }
}

/** Forgets one device of a user; false when the user has no such device. */
export async function forgetDevice(ctx: AuthContext, user: UserRow, deviceId: string, actor: DeviceActor): Promise<boolean> {
  const removed = await deleteUserDevice(ctx.database.db, user.id, deviceId);
  if (!removed) return false;
  await recordEvents(ctx, [eventFor("device.forgotten", { user }, actor.client, ctx.now(),
    `trusted device forgotten ${actorWords(actor)}`, { by: actor.by, deviceId, count: 1, ...(actor.email ? { actor: actor.email } : {}) })]);
  return true;
}

/**
 * Forgets every device of a user, except the one with `keepToken` (the client resetting its
 * password). Records one `device.forgotten` event when any went; returns how many.
 */
export async function forgetDevices(
  ctx: AuthContext, user: UserRow, actor: DeviceActor, options: { keepToken?: string | null } = {},
): Promise<number> {
  const keep = isDeviceTokenShaped(options.keepToken) ? hashToken(options.keepToken) : undefined;
  const count = await deleteUserDevices(ctx.database.db, user.id, { keepTokenHash: keep });
  if (count > 0) {
    const what = keep === undefined ? (count === 1 ? "the one trusted device" : `all ${count} trusted devices`)
      : `${count} other trusted device${count === 1 ? "" : "s"}`;
    await recordEvents(ctx, [eventFor("device.forgotten", { user }, actor.client, ctx.now(), `${what} forgotten ${actorWords(actor)}`,
      { by: actor.by, count, ...(actor.email ? { actor: actor.email } : {}) })]);
  }
  return count;
}
