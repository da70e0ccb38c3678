import { setTimeout as sleep } from "node:timers/promises";
import {
  deviceAttemptsRemaining, deviceSlotOwners, onDeviceFailure, onDeviceLoginCompleted, onDeviceVerified, reserveOnDevice, settle, statusFor,
  thresholdFor,
} from "../lockout/index.ts";
import {
  compareAndSetDevice, deviceStateOf, findDevice, findUserById, insertEvents, lockoutStateOf, markLastFailure, markSignedInUnlessStopped,
  type DeviceRow, type SecurityEvent, type UserRow,
} from "../store/index.ts";
import type { AuthContext, Client } from "./context.ts";
import { failedMessage, isoSeconds, refusedMessage } from "./event-messages.ts";
import type { GuardRequest, GuardResult } from "./guard.ts";
import { eventFor, logEvents, recordEvents } from "./record.ts";
import { InstanceUnavailableError } from "./slot-release.ts";

/**
 * The trusted-device lane of the guard: the same reserve / verify / record loop as the
 * account's, with the same compare-and-set slots, but on the (device, user) counter. The
 * account's password lock does not stop it; a disable or a second-factor lock does.
 */

type Reserved = { readonly row: UserRow; readonly device: DeviceRow; readonly slotId: string | null };

/** As the account lane: how long to wait before asking whether slot owners live, and the longest pause. */
const LIVENESS_AFTER_MS = 200;
const MAX_POLL_MS = 100;

/** Thrown inside a transaction to roll it back and decide again. */
class LostRace extends Error {}

async function readUser(ctx: AuthContext, userId: string): Promise<UserRow> {
  const row = await findUserById(ctx.database.db, userId);
  if (!row) throw new Error(`user ${userId} vanished during an attempt`);
  return row;
}

function details(request: GuardRequest, device: DeviceRow, extra: Record<string, unknown>): Record<string, unknown> {
  return { factor: request.factor, via: request.via, trustedDevice: true, deviceId: device.id, ...extra };
}

async function refuseOnDevice(
  ctx: AuthContext, row: UserRow, device: DeviceRow, request: GuardRequest, reason: "locked" | "disabled", by: "account" | "device",
  options: { timing: "dummy_verify" | "already_spent" } = { timing: "dummy_verify" },
): Promise<GuardResult> {
  // Same cost as a real check, but the stored hash is never touched.
  if (options.timing === "dummy_verify") {
    await ctx.hasher.dummyVerify("", { lane: request.lane ?? "trusted" });
    ctx.metrics.verification("dummy");
  }
  const now = ctx.now();
  const message = by === "device"
    ? `login refused: this trusted device is locked until ${isoSeconds(device.locked_until ?? now)} (the account is not locked)`
    : refusedMessage(reason, reason === "locked" ? isoSeconds(row.locked_until ?? now) : (row.disabled_reason ?? "unknown"));
  await recordEvents(ctx, [eventFor("login.failed", { user: row }, request.client, now, message, details(request, device, { reason, lockedBy: by }))]);
  return { kind: "refused", user: row, reason };
}

async function reserveDeviceSlot(
  ctx: AuthContext, request: GuardRequest, device: DeviceRow, slotId: string,
): Promise<Reserved | GuardResult | "forgotten"> {
  const started = performance.now();
  let knownUser = request.user;
  let knownDevice: DeviceRow | undefined = device;
  let deadOwners: readonly string[] = [];
  for (;;) {
    const row: UserRow = knownUser ?? await readUser(ctx, request.userId);
    const current: DeviceRow | undefined = knownDevice ?? await findDevice(ctx.database.db, device.id);
    knownUser = undefined;
    knownDevice = undefined;
    if (!current) return "forgotten";
    const state = deviceStateOf(current);
    const claim = { owner: ctx.instance.id, deadOwners };
    const reservation = reserveOnDevice(lockoutStateOf(row), state, ctx.policy, ctx.now(), slotId, claim);
    switch (reservation.kind) {
      case "refused":
        return refuseOnDevice(ctx, row, current, request, reservation.reason, reservation.by);
      case "unlimited":
        return { row, device: current, slotId: null };
      case "reserved": {
        const written = await compareAndSetDevice(ctx.database.db, current, { device: reservation.device });
        if (written) {
          ctx.metrics.slotWait((performance.now() - started) / 1000);
          return { row, device: written, slotId };
        }
        continue;
      }
      case "wait": {
        // As on the account: after a short wait, the slots of a process that died are free.
        const waited = performance.now() - started;
        const dead = waited < LIVENESS_AFTER_MS ? [] : await ctx.instance.deadAmong(deviceSlotOwners(state));
        if (dead.some((owner) => !deadOwners.includes(owner))) {
          deadOwners = [...new Set([...deadOwners, ...dead])];
          knownUser = row;
          knownDevice = current;
          continue;
        }
        if (waited > ctx.slotWaitMs) {
          await recordEvents(ctx, [eventFor("login.failed", { user: row }, request.client, ctx.now(),
            "attempt not checked: no verification slot of this trusted device became free in time", details(request, current, { reason: "throttled" }))]);
          return { kind: "busy", user: row };
        }
        await sleep(Math.min(MAX_POLL_MS, 5 + waited / 10) * (0.5 + Math.random()));
      }
    }
  }
}

async function releaseDeviceSlot(ctx: AuthContext, deviceId: string, slotId: string | null): Promise<void> {
  if (slotId === null) return;
  for (;;) {
    const device = await findDevice(ctx.database.db, deviceId);
    if (!device || !deviceStateOf(device).password.slots.some((slot) => slot.id === slotId)) return;
    const state = onDeviceVerified(deviceStateOf(device), ctx.policy, ctx.now(), slotId);
    if (await compareAndSetDevice(ctx.database.db, device, { device: state })) return;
  }
}

/** Releases now, or, when the database cannot be reached, as soon as it can again (as `releaseOnError`). */
async function releaseDeviceOnError(ctx: AuthContext, deviceId: string, slotId: string | null): Promise<void> {
  if (slotId === null) return;
  try {
    await releaseDeviceSlot(ctx, deviceId, slotId);
  } catch {
    ctx.instance.retryLater(() => releaseDeviceSlot(ctx, deviceId, slotId));
  }
}

/**
 * Reserves with a fresh heartbeat, as the account lane's `reserveFresh`: once the slot is
 * ours nobody may presume this process dead for longer than a verification takes. After a
 * lapse the slot is taken back under a fresh heartbeat (a version bump), or reserved anew.
 */
async function reserveDeviceFresh(
  ctx: AuthContext, request: GuardRequest, device: DeviceRow, slotId: string,
): Promise<Reserved | GuardResult | "forgotten"> {
  const started = performance.now();
  if (!(await ctx.instance.refresh())) throw new InstanceUnavailableError("this instance cannot write its heartbeat");
  let reserved = await reserveDeviceSlot(ctx, request, device, slotId);
  while (reserved !== "forgotten" && !("kind" in reserved) && reserved.slotId !== null && !ctx.instance.isFresh()) {
    if (performance.now() - started > ctx.slotWaitMs || !(await ctx.instance.refresh())) {
      await releaseDeviceOnError(ctx, device.id, reserved.slotId);
      throw new InstanceUnavailableError("this instance's heartbeat keeps lapsing");
    }
    const current = await findDevice(ctx.database.db, device.id);
    const held = current && deviceStateOf(current).password.slots.some((slot) => slot.id === slotId);
    const written = held ? await compareAndSetDevice(ctx.database.db, current, { device: deviceStateOf(current) }) : undefined;
    reserved = written ? { ...reserved, device: written } : await reserveDeviceSlot(ctx, request, device, slotId);
  }
  return reserved;
}

async function recordDeviceFailure(ctx: AuthContext, request: GuardRequest, reserved: Reserved): Promise<GuardResult> {
  const { row, slotId } = reserved;
  let known: DeviceRow | undefined = reserved.device;
  for (;;) {
    const device = known ?? await findDevice(ctx.database.db, reserved.device.id);
    known = undefined;
    // Forgotten while its password was checked: its slot went with it.
    if (!device) return { kind: "failed", user: row, attemptsRemaining: null, effects: [] };
    const now = ctx.now();
    const account = lockoutStateOf(row);
    const decision = onDeviceFailure(deviceStateOf(device), account, ctx.policy, now, slotId);
    const threshold = thresholdFor(ctx.policy, account.role, "password");
    const events: SecurityEvent[] = [eventFor("login.failed", { user: row }, request.client, now,
      `${failedMessage("password", decision.device.password.failures, threshold)} on a trusted device`,
      details(request, device, { reason: "wrong_password", failedAttempts: decision.device.password.failures, threshold }))];
    for (const effect of decision.effects) {
      events.push(eventFor("device.locked", { user: row }, request.client, now,
        `trusted device locked until ${isoSeconds(effect.lockedUntil)} after ${effect.failedAttempts} failed password attempts (the account is not locked)`,
        { deviceId: device.id, failedAttempts: effect.failedAttempts, lockedUntil: new Date(effect.lockedUntil).toISOString() }));
    }
    const written = await ctx.database.db.transaction().execute(async (trx) => {
      if (!(await compareAndSetDevice(trx, device, { device: decision.device }))) return false;
      await insertEvents(trx, events);
      await markLastFailure(trx, row.id, now, request.client.ip);
      return true;
    });
    if (!written) continue;
    logEvents(ctx, events);
    return {
      kind: "failed", user: row, effects: [],
      attemptsRemaining: deviceAttemptsRemaining(decision.device, account, ctx.policy, now),
    };
  }
}

async function recordDeviceSuccess(ctx: AuthContext, request: GuardRequest, reserved: Reserved): Promise<GuardResult> {
  const { slotId } = reserved;
  let known: DeviceRow | undefined = reserved.device;
  // A full sign-in may go on with the row read at reservation: if the account was disabled or
  // locked for the second factor since, the transaction's guarded update of last_login_at finds
  // nothing and the next round reads it afresh. A release (a second factor follows) re-reads.
  let knownUser: UserRow | undefined = request.onSuccess === "complete_login" ? reserved.row : undefined;
  for (;;) {
    const device = known ?? await findDevice(ctx.database.db, reserved.device.id);
    const row = knownUser ?? await readUser(ctx, request.userId);
    known = undefined;
    knownUser = undefined;
    const now = ctx.now();
    const status = statusFor(settle(lockoutStateOf(row), ctx.policy, now), now, "device");
    if (!device || status !== "active") {
      // Disabled or locked for the second factor while this password was checked: that wins.
      if (device) await releaseDeviceSlot(ctx, device.id, slotId);
      if (!device || status === "active") return { kind: "failed", user: row, attemptsRemaining: null, effects: [] };
      return refuseOnDevice(ctx, row, device, request, status, "account", { timing: "already_spent" });
    }
    const complete = request.onSuccess === "complete_login";
    const released = onDeviceVerified(deviceStateOf(device), ctx.policy, now, slotId);
    const next = complete ? onDeviceLoginCompleted(released, ctx.policy, now) : released;
    const events = complete
      ? [eventFor("login.succeeded", { user: row }, request.client, now, "login succeeded on a trusted device",
          { via: request.via, trustedDevice: true, deviceId: device.id })]
      : [];
    try {
      await ctx.database.db.transaction().execute(async (trx) => {
        const usedAt = complete ? { now, ip: request.client.ip, userAgent: request.client.userAgent } : undefined;
        const used = await compareAndSetDevice(trx, device, { device: next, usedAt });
        if (!used) throw new LostRace();
        if (!complete) return;
        // Not a counter: no compare-and-set, but only while nothing stops every client.
        if (!(await markSignedInUnlessStopped(trx, row.id, now))) throw new LostRace();
        await insertEvents(trx, events);
        await request.completion?.(trx, row, { device: used });
      });
    } catch (error) {
      if (error instanceof LostRace) continue;
      throw error;
    }
    logEvents(ctx, events);
    return { kind: "verified", user: { ...row, last_login_at: complete ? now : row.last_login_at } };
  }
}

/**
 * A password presented with a device this user trusts, through that device's counter. Returns
 * "forgotten" when the device was forgotten before a slot was taken (the caller then treats
 * the attempt as untrusted).
 */
export async function guardOnDevice(
  ctx: AuthContext, request: GuardRequest, device: DeviceRow, slotId: string,
): Promise<GuardResult | "forgotten"> {
  const reserved = await reserveDeviceFresh(ctx, request, device, slotId);
  if (reserved === "forgotten" || "kind" in reserved) return reserved;
  try {
    const ok = await request.verify(reserved.row);
    ctx.metrics.verification("real");
    return ok ? await recordDeviceSuccess(ctx, request, reserved) : await recordDeviceFailure(ctx, request, reserved);
  } catch (error) {
    // A check that could not run, or an outcome that could not be recorded, counts as nothing
    // but must not keep the device's slot until it expires.
    await releaseDeviceOnError(ctx, reserved.device.id, reserved.slotId);
    throw error;
  }
}

/** After a trusted device's second factor: that device's counter starts over, nothing else. */
export async function completeOnDevice(ctx: AuthContext, deviceId: string, client: Client): Promise<void> {
  for (;;) {
    const device = await findDevice(ctx.database.db, deviceId);
    if (!device) return;
    const now = ctx.now();
    const next = onDeviceLoginCompleted(deviceStateOf(device), ctx.policy, now);
    if (await compareAndSetDevice(ctx.database.db, device, { device: next, usedAt: { now, ip: client.ip, userAgent: client.userAgent } })) return;
  }
}
