import { FRESH, liveSlots, reclaim, settleCounter, statusFor } from "./decide.ts";
import { thresholdFor } from "./policy.ts";
import type { FactorCounter, Lane, LockoutState, Policy, Slot, SlotClaim } from "./types.ts";

/**
 * One trusted device of one user (OWASP device cookies, Entra-style separate counters): its
 * own password counter and its own lock, which never touch the account's.
 */
export interface DeviceState {
  readonly lockedUntil: number | null;
  readonly password: FactorCounter;
}

export type DeviceEffect = {
  readonly type: "device_locked";
  readonly failedAttempts: number;
  readonly lockedUntil: number;
};

export interface DeviceDecision {
  readonly device: DeviceState;
  readonly effects: readonly DeviceEffect[];
}

export type DeviceReservation =
  | { readonly kind: "refused"; readonly reason: "locked" | "disabled"; readonly by: "account" | "device" }
  | { readonly kind: "wait" }
  | { readonly kind: "unlimited" }
  | { readonly kind: "reserved"; readonly device: DeviceState; readonly attemptsRemaining: number };

/**
 * Which counter an attempt uses: the device's own when it presents a device this user trusts
 * (and trust is on), else the account's.
 *
 * @example laneOf({ deviceTrust: true, presentsTrustedDevice: false }) // "account"
 */
export function laneOf(input: { readonly deviceTrust: boolean; readonly presentsTrustedDevice: boolean }): Lane {
  return input.deviceTrust && input.presentsTrustedDevice ? "device" : "account";
}

/** The device as it is at `now`: an expired lock leaves a fresh counter; an old counter resets. */
export function settleDevice(device: DeviceState, policy: Policy, now: number): DeviceState {
  if (device.lockedUntil !== null && device.lockedUntil <= now) {
    return { lockedUntil: null, password: { ...FRESH, slots: liveSlots(device.password, now) } };
  }
  if (device.lockedUntil !== null) return device;
  const password = settleCounter(device.password, policy, now);
  return password === device.password ? device : { ...device, password };
}

export function deviceLocked(device: DeviceState, now: number): boolean {
  return device.lockedUntil !== null && device.lockedUntil > now;
}

function release(counter: FactorCounter, slotId: string | null): FactorCounter {
  if (slotId === null) return counter;
  return { ...counter, slots: counter.slots.filter((slot) => slot.id !== slotId) };
}

/**
 * Asks for the right to verify a password presented with a trusted device. A disable or a
 * second-factor lock of the account refuses it, as does the device's own lock; the account's
 * password lock does not. At most `threshold` verifications are in flight or failed on the device.
 */
export function reserveOnDevice(
  account: LockoutState, device: DeviceState, policy: Policy, now: number, slotId: string, claim?: SlotClaim,
): DeviceReservation {
  const status = statusFor(account, now, "device");
  if (status !== "active") return { kind: "refused", reason: status, by: "account" };
  const current = settleDevice(device, policy, now);
  if (deviceLocked(current, now)) return { kind: "refused", reason: "locked", by: "device" };
  const threshold = thresholdFor(policy, account.role, "password");
  if (threshold === 0) return { kind: "unlimited" };
  // The same slots as the account's: owned by an instance, a dead owner's reclaimed.
  const counter = reclaim(current.password, claim?.deadOwners ?? []);
  if (counter.failures + counter.slots.length >= threshold) return { kind: "wait" };
  const slot: Slot = claim === undefined
    ? { id: slotId, expiresAt: now + policy.slotTtlMs }
    : { id: slotId, expiresAt: now + policy.slotTtlMs, owner: claim.owner };
  return {
    kind: "reserved",
    device: { ...current, password: { ...counter, slots: [...counter.slots, slot] } },
    attemptsRemaining: threshold - counter.failures - 1,
  };
}

/**
 * A wrong password presented with the device: counts on the device only; at the threshold the
 * device (not the account) is locked for the first lock duration.
 */
export function onDeviceFailure(
  device: DeviceState, account: LockoutState, policy: Policy, now: number, slotId: string | null,
): DeviceDecision {
  const current = settleDevice(device, policy, now);
  const counter = release(current.password, slotId);
  if (deviceLocked(current, now)) return { device: { ...current, password: counter }, effects: [] };
  const failures = counter.failures + 1;
  const next: DeviceState = { ...current, password: { ...counter, failures, lastFailedAt: now } };
  const threshold = thresholdFor(policy, account.role, "password");
  if (threshold === 0 || failures < threshold) return { device: next, effects: [] };
  const lockedUntil = now + policy.durationMs;
  return { device: { ...next, lockedUntil }, effects: [{ type: "device_locked", failedAttempts: failures, lockedUntil }] };
}

/** A correct password with the device: gives the slot back and nothing else. */
export function onDeviceVerified(device: DeviceState, policy: Policy, now: number, slotId: string | null): DeviceState {
  const current = settleDevice(device, policy, now);
  return { ...current, password: release(current.password, slotId) };
}

/**
 * A fully successful sign-in with the device resets this device's counter only: the account's
 * untrusted counter, its lock and the consecutive-lock count run their course, so the user
 * signing in never hands an attacker a fresh set of guesses.
 */
export function onDeviceLoginCompleted(device: DeviceState, policy: Policy, now: number): DeviceState {
  const current = settleDevice(device, policy, now);
  return { lockedUntil: null, password: { ...FRESH, slots: current.password.slots } };
}

/** Attempts left on the device before it locks, or null when it never does. */
export function deviceAttemptsRemaining(device: DeviceState, account: LockoutState, policy: Policy, now: number): number | null {
  const threshold = thresholdFor(policy, account.role, "password");
  if (threshold === 0) return null;
  const current = settleDevice(device, policy, now);
  if (deviceLocked(current, now)) return 0;
  return Math.max(0, threshold - current.password.failures);
}

/** The distinct owners of the device's slots in flight (to ask the shell which are alive). */
export function deviceSlotOwners(device: DeviceState): string[] {
  const owners = new Set<string>();
  for (const slot of device.password.slots) if (slot.owner !== undefined) owners.add(slot.owner);
  return [...owners];
}
