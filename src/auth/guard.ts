import { setTimeout as sleep } from "node:timers/promises";
import {
  attemptsRemaining, laneOf, onFailure, onLoginCompleted, onVerified, reserve, settle, slotOwners, statusFor, thresholdFor,
  type Decision, type Effect, type Factor, type Lane as CounterLane, type LockoutState,
} from "../lockout/index.ts";
import {
  compareAndSetLockout, countOtherActiveAdmins, findUserById, lockoutStateOf, otherActiveAdmins, type DeviceRow, type LockoutWrite,
  type Notice, type Recipient, type Schema, type SecurityEvent, type UserRow,
} from "../store/index.ts";
import type { Kysely } from "kysely";
import { effectNotices } from "../notify/notices.ts";
import { applyLockoutWrite } from "./apply.ts";
import type { AuthContext, Client } from "./context.ts";
import { completeOnDevice, guardOnDevice } from "./guard-device.ts";
import type { Lane } from "./priority-gate.ts";
import { disabledMessage, failedMessage, isoSeconds, lockedMessage, refusedMessage } from "./event-messages.ts";
import { eventFor, recordEvents } from "./record.ts";
import { InstanceUnavailableError, reconfirm, releaseOnError, type Reserved } from "./slot-release.ts";
import { isoTime } from "../time.ts";

export type GuardResult =
  | { readonly kind: "verified"; readonly user: UserRow }
  | { readonly kind: "failed"; readonly user: UserRow; readonly attemptsRemaining: number | null; readonly effects: readonly Effect[] }
  | { readonly kind: "refused"; readonly user: UserRow; readonly reason: "locked" | "disabled" }
  /** No verification slot freed up in time; nothing was verified or counted. */
  | { readonly kind: "busy"; readonly user: UserRow };

export interface GuardRequest {
  readonly userId: string;
  readonly factor: Factor;
  /** Checks the secret against the row read just before the slot was reserved. */
  readonly verify: (user: UserRow) => Promise<boolean>;
  readonly client: Client;
  /** Which pathway asked, recorded in event details. */
  readonly via: "login" | "password_change" | "mfa" | "mfa_disable" | "recovery_codes";
  /** `complete_login` also resets both counters and records `login.succeeded`. */
  readonly onSuccess: "complete_login" | "release";
  /** The hashing lane of the attempt (a refusal's dummy verification waits in it too); untrusted when not said. */
  readonly lane?: Lane;
  /** The user's row if the caller has just read it: saves a read (a stale one only costs a retry). */
  readonly user?: UserRow;
  /**
   * A device this user trusts that the client presents (see `findTrustedDevice`). Its password
   * attempts count on that device's own counter, and the account's password lock does not stop
   * it or its second factor.
   */
  readonly device?: DeviceRow | null;
  /**
   * With `complete_login`: the sign-in's own writes (session, trusted device, mails), made in
   * the transaction that releases the slot, resets the counters and records login.succeeded.
   */
  readonly completion?: (trx: Kysely<Schema>, user: UserRow, via: CompletedVia) => Promise<void>;
}

/** How a completed sign-in got through: on a trusted device (already marked used), or not. */
export interface CompletedVia {
  readonly device: DeviceRow | null;
}

function laneOfRequest(ctx: AuthContext, request: GuardRequest): CounterLane {
  return laneOf({ deviceTrust: ctx.deviceTrust, presentsTrustedDevice: request.device != null });
}


async function read(ctx: AuthContext, userId: string): Promise<UserRow> {
  const row = await findUserById(ctx.database.db, userId);
  if (!row) throw new Error(`user ${userId} vanished during an attempt`);
  return row;
}

/** Reads of one account in flight, per database: attempts waiting for its slots share them. */
const sharedReads = new WeakMap<object, Map<string, Promise<UserRow>>>();

/**
 * A read for an attempt that polls for a slot. A flood of waiting attempts would otherwise
 * hold every connection, starving the slot holders that must record their outcomes; rows are
 * immutable values, and one read at most a few milliseconds old only costs a compare-and-set.
 */
function readShared(ctx: AuthContext, userId: string): Promise<UserRow> {
  let reads = sharedReads.get(ctx.database);
  if (reads === undefined) {
    reads = new Map();
    sharedReads.set(ctx.database, reads);
  }
  let pending = reads.get(userId);
  if (pending === undefined) {
    const map = reads;
    pending = read(ctx, userId).finally(() => map.delete(userId));
    reads.set(userId, pending);
  }
  return pending;
}

async function refuse(
  ctx: AuthContext, row: UserRow, request: GuardRequest, reason: "locked" | "disabled",
  options: { timing: "dummy_verify" | "already_spent" } = { timing: "dummy_verify" },
): Promise<GuardResult> {
  // Same cost as a real check, but the stored hash is never touched.
  if (request.factor === "password" && options.timing === "dummy_verify") {
    await ctx.hasher.dummyVerify("", { lane: request.lane ?? "untrusted" });
    ctx.metrics.verification("dummy");
  }
  const now = ctx.now();
  const detail = reason === "locked" ? isoSeconds(row.locked_until ?? now) : (row.disabled_reason ?? "unknown");
  await recordEvents(ctx, [eventFor("login.failed", { user: row }, request.client, now, refusedMessage(reason, detail),
    { reason, factor: request.factor, via: request.via, trustedDevice: laneOfRequest(ctx, request) === "device" })]);
  return { kind: "refused", user: row, reason };
}

/** How long an attempt waits for slots to free up before asking whether their owners live. */
const LIVENESS_AFTER_MS = 200;
/** The longest pause between two looks at a busy account's slots. */
const MAX_POLL_MS = 100;

async function reserveSlot(ctx: AuthContext, request: GuardRequest, slotId: string): Promise<Reserved | GuardResult> {
  const started = performance.now();
  let known = request.user;
  let deadOwners: readonly string[] = [];
  for (;;) {
    const row = known ?? await readShared(ctx, request.userId);
    known = undefined;
    const state = lockoutStateOf(row);
    const claim = { owner: ctx.instance.id, deadOwners, lane: laneOfRequest(ctx, request) };
    const reservation = reserve(state, request.factor, ctx.policy, ctx.now(), slotId, claim);
    switch (reservation.kind) {
      case "refused":
        return refuse(ctx, row, request, reservation.reason);
      case "unlimited":
        return { row, slotId: null };
      case "reserved": {
        const written = await compareAndSetLockout(ctx.database.db, row, { state: reservation.state, now: ctx.now() });
        if (written) {
          ctx.metrics.slotWait((performance.now() - started) / 1000);
          return { row: written, slotId };
        }
        continue;
      }
      case "wait": {
        // Every attempt is taken. A verification takes milliseconds: after a short wait, ask
        // whether some slots belong to a process that died; those are free.
        const waited = performance.now() - started;
        const dead = waited < LIVENESS_AFTER_MS ? [] : await ctx.instance.deadAmong(slotOwners(state, request.factor));
        if (dead.some((owner) => !deadOwners.includes(owner))) {
          deadOwners = [...new Set([...deadOwners, ...dead])];
          known = row;
          continue;
        }
        if (waited > ctx.slotWaitMs) {
          await recordEvents(ctx, [eventFor("login.failed", { user: row }, request.client, ctx.now(),
            "attempt not checked: no verification slot became free in time",
            { reason: "throttled", factor: request.factor, via: request.via, trustedDevice: laneOfRequest(ctx, request) === "device" })]);
          return { kind: "busy", user: row };
        }
        // Back off as the wait grows, so that a flood of waiting attempts polling the row does
        // not starve the very connections the slot holders need to record their outcomes.
        await sleep(Math.min(MAX_POLL_MS, 5 + waited / 10) * (0.5 + Math.random()));
      }
    }
  }
}

function decideFailure(state: LockoutState, request: GuardRequest, ctx: AuthContext, now: number, slotId: string | null, isLastActiveAdmin: boolean): Decision {
  return onFailure(state, request.factor, ctx.policy, now, { slotId, isLastActiveAdmin, lane: laneOfRequest(ctx, request) });
}

function failureEvents(row: UserRow, request: GuardRequest, ctx: AuthContext, now: number, decision: Decision): SecurityEvent[] {
  const counter = decision.state[request.factor];
  const threshold = thresholdFor(ctx.policy, row.role === "admin" ? "admin" : "user", request.factor);
  const reason = request.factor === "mfa" ? "mfa_invalid" : "wrong_password";
  const events = [eventFor("login.failed", { user: row }, request.client, now,
    failedMessage(request.factor, counter.failures, threshold),
    { reason, factor: request.factor, via: request.via, failedAttempts: counter.failures, threshold, trustedDevice: laneOfRequest(ctx, request) === "device" })];
  for (const effect of decision.effects) {
    if (effect.type === "locked") {
      events.push(eventFor("account.locked", { user: row }, request.client, now, lockedMessage(effect), {
        factor: effect.factor, failedAttempts: effect.failedAttempts,
        lockedUntil: isoTime(effect.lockedUntil), lockoutCount: effect.lockoutCount,
        ...(effect.insteadOfDisable ? { insteadOfDisable: true, lastActiveAdmin: true } : {}),
      }));
    } else if (effect.type === "disabled") {
      events.push(eventFor("account.disabled", { user: row }, request.client, now, disabledMessage(effect), {
        reason: effect.reason, factor: effect.factor, failedAttempts: effect.failedAttempts, lockoutCount: effect.lockoutCount,
      }));
    }
  }
  return events;
}

/** The security e-mails a failure's effects cause (lock notice, warning, admin alerts). */
async function failureNotices(ctx: AuthContext, row: UserRow, request: GuardRequest, now: number, decision: Decision): Promise<Notice[]> {
  if (decision.effects.length === 0) return [];
  const acts = decision.effects.some((e) => e.type === "locked" || e.type === "disabled");
  const otherAdmins: Recipient[] = acts && row.role === "admin" ? await otherActiveAdmins(ctx.database.db, row.id) : [];
  return effectNotices(row, decision.effects, {
    client: request.client, now, warnBeforeLock: ctx.notify.warnBeforeLock, otherAdmins,
  });
}

async function recordFailure(ctx: AuthContext, request: GuardRequest, reserved: Reserved): Promise<GuardResult> {
  const { slotId } = reserved;
  let known: UserRow | undefined = reserved.row;
  for (;;) {
    const row = known ?? await read(ctx, request.userId);
    known = undefined;
    const now = ctx.now();
    const state = lockoutStateOf(row);
    let decision = decideFailure(state, request, ctx, now, slotId, false);
    const disablesAdmin = row.role === "admin" && decision.effects.some((e) => e.type === "disabled");
    if (disablesAdmin && (await countOtherActiveAdmins(ctx.database.db, row.id)) === 0) {
      decision = decideFailure(state, request, ctx, now, slotId, true);
    }
    const events = failureEvents(row, request, ctx, now, decision);
    const change: LockoutWrite = {
      state: decision.state, now,
      extra: { last_failed_at: now, last_failed_ip: request.client.ip },
      requireOtherActiveAdmin: decision.state.disabledReason !== null && row.disabled_reason === null && row.role === "admin",
    };
    const notices = await failureNotices(ctx, row, request, now, decision);
    if (!(await applyLockoutWrite(ctx, row, change, events, notices))) continue;
    for (const effect of decision.effects) {
      if (effect.type !== "near_threshold") ctx.metrics.lockout(effect.factor, effect.type);
    }
    const remaining = attemptsRemaining(decision.state, request.factor, ctx.policy, now);
    return { kind: "failed", user: row, attemptsRemaining: remaining, effects: decision.effects };
  }
}

async function recordSuccess(ctx: AuthContext, request: GuardRequest, reserved: Reserved): Promise<GuardResult> {
  const { slotId } = reserved;
  let known: UserRow | undefined = reserved.row;
  for (;;) {
    const row = known ?? await read(ctx, request.userId);
    known = undefined;
    const now = ctx.now();
    const state = settle(lockoutStateOf(row), ctx.policy, now);
    const lane = laneOfRequest(ctx, request);
    const status = statusFor(state, now, lane);
    const released = onVerified(state, request.factor, ctx.policy, now, slotId);
    if (status !== "active") {
      // Locked or disabled while this secret was being checked: the lock wins.
      if (await compareAndSetLockout(ctx.database.db, row, { state: released, now })) {
        return refuse(ctx, row, request, status, { timing: "already_spent" });
      }
      continue;
    }
    const complete = request.onSuccess === "complete_login";
    // A trusted device's success resets that device's counter only (SPEC "Trusted devices" 3).
    const next = complete && lane === "account" ? onLoginCompleted(released, ctx.policy, now) : released;
    const events = complete
      ? [eventFor("login.succeeded", { user: row }, request.client, now, "login succeeded",
          { via: request.via, ...(request.client.app ? { client: request.client.app.clientId, clientName: request.client.app.name } : {}),
            ...(lane === "device" ? { trustedDevice: true, deviceId: request.device?.id } : {}) })]
      : [];
    const within = complete && request.completion ? (trx: Kysely<Schema>) => request.completion!(trx, row, { device: null }) : undefined;
    if (await applyLockoutWrite(ctx, row, { state: next, now, extra: complete ? { last_login_at: now } : {} }, events, [], within)) {
      if (complete && lane === "device" && request.device) await completeOnDevice(ctx, request.device.id, request.client);
      return { kind: "verified", user: { ...row, last_login_at: complete ? now : row.last_login_at } };
    }
  }
}

async function reserveFresh(ctx: AuthContext, request: GuardRequest, slotId: string): Promise<Reserved | GuardResult> {
  const started = performance.now();
  if (!(await ctx.instance.refresh())) throw new InstanceUnavailableError("this instance cannot write its heartbeat");
  let reserved = await reserveSlot(ctx, request, slotId);
  // Checked once the slot is ours: from then on nobody may presume this process dead for
  // INSTANCE_TTL_MS − VERIFY_START_MS, longer than a verification takes.
  while (!("kind" in reserved) && reserved.slotId !== null && !ctx.instance.isFresh()) {
    if (performance.now() - started > ctx.slotWaitMs || !(await ctx.instance.refresh())) {
      await releaseOnError(ctx, request.userId, reserved.slotId);
      throw new InstanceUnavailableError("this instance's heartbeat keeps lapsing");
    }
    reserved = await reconfirm(ctx, request, slotId) ?? await reserveSlot(ctx, request, slotId);
  }
  return reserved;
}

/**
 * The single guard that every pathway checking a secret goes through: it reserves a
 * verification slot atomically (waiting, bounded, when all are taken), verifies, and records
 * the outcome with a compare-and-set, so concurrent attempts on any number of processes never
 * run more than `threshold` verifications before the account locks. The slot is given back
 * on every path: by the outcome's write, or, when verifying or recording throws, explicitly
 * (retried after the database comes back); a slot of a process that died is reclaimed by
 * the others once its heartbeat lapses.
 */
export async function guardSecret(ctx: AuthContext, request: GuardRequest): Promise<GuardResult> {
  const slotId = ctx.randomBytes(12).toString("base64url");
  if (request.factor === "password" && request.device && laneOfRequest(ctx, request) === "device") {
    const result = await guardOnDevice(ctx, request, request.device, slotId);
    if (result !== "forgotten") return result;
    request = { ...request, device: null };
  }
  const reserved = await reserveFresh(ctx, request, slotId);
  if ("kind" in reserved) return reserved;
  try {
    const ok = await request.verify(reserved.row);
    ctx.metrics.verification("real");
    return ok ? await recordSuccess(ctx, request, reserved) : await recordFailure(ctx, request, reserved);
  } catch (error) {
    // A check that could not run, or an outcome that could not be recorded, counts as nothing
    // but must not keep its slot until it expires.
    await releaseOnError(ctx, request.userId, reserved.slotId);
    throw error;
  }
}
