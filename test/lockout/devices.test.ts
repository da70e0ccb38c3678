/**
 * The trusted-device lane of the pure engine: which counter an attempt uses, the device lock,
 * and two properties over random policies and interleavings (fast-check, no clock reads).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  laneOf, onDeviceFailure, onDeviceLoginCompleted, onDeviceVerified, onFailure, onLoginCompleted, reserve, reserveOnDevice,
  statusFor, statusOf, thresholdFor, unlock,
  type DeviceState, type LockoutState, type Policy,
} from "../../src/lockout/index.ts";
import { counter, deepFreeze, gapArb, MIN, NOT_LAST, policy, policyArb, roleArb, RUNS, SEC, state, T0 } from "./fixtures.ts";

function device(overrides: Partial<DeviceState> = {}): DeviceState {
  return { lockedUntil: null, password: counter(), ...overrides };
}

describe("which counter an attempt uses", () => {
  it("the device's own when it presents a device the user trusts and trust is on; else the account's", () => {
    expect(laneOf({ deviceTrust: true, presentsTrustedDevice: true })).toBe("device");
    expect(laneOf({ deviceTrust: true, presentsTrustedDevice: false })).toBe("account");
    expect(laneOf({ deviceTrust: false, presentsTrustedDevice: true })).toBe("account");
    expect(laneOf({ deviceTrust: false, presentsTrustedDevice: false })).toBe("account");
  });

  it("a password lock stops untrusted clients only; a second-factor lock and every disable stop all", () => {
    const locked = state({ lockedUntil: T0 + MIN, lockReason: "password" });
    expect(statusFor(locked, T0, "account")).toBe("locked");
    expect(statusFor(locked, T0, "device")).toBe("active");
    expect(statusFor({ ...locked, lockReason: "mfa" }, T0, "device")).toBe("locked");
    expect(statusFor(state({ disabledReason: "repeated_lockouts" }), T0, "device")).toBe("disabled");
    const p = policy();
    expect(reserveOnDevice(locked, device(), p, T0, "s")).toMatchObject({ kind: "reserved", attemptsRemaining: 4 });
    expect(reserveOnDevice({ ...locked, lockReason: "mfa" }, device(), p, T0, "s")).toEqual({ kind: "refused", reason: "locked", by: "account" });
    expect(reserveOnDevice(state({ disabledReason: "admin" }), device(), p, T0, "s")).toEqual({ kind: "refused", reason: "disabled", by: "account" });
    // The second factor of a trusted device's sign-in is not stopped by the password lock either.
    expect(reserve(locked, "mfa", p, T0, "s", { owner: "i1", deadOwners: [], lane: "device" }).kind).toBe("reserved");
    expect(reserve(locked, "mfa", p, T0, "s").kind).toBe("refused");
  });

  it("at the threshold the device (not the account) locks for the lock duration, then starts fresh", () => {
    const p = policy({ threshold: 3, durationMs: 15 * MIN });
    const account = deepFreeze(state());
    let d = deepFreeze(device());
    for (let i = 1; i <= 2; i++) {
      const decision = onDeviceFailure(d, account, p, T0 + i, null);
      expect(decision.effects).toEqual([]);
      d = decision.device;
    }
    const third = onDeviceFailure(d, account, p, T0 + 3, null);
    expect(third.effects).toEqual([{ type: "device_locked", failedAttempts: 3, lockedUntil: T0 + 3 + 15 * MIN }]);
    expect(reserveOnDevice(account, third.device, p, T0 + 10, "s")).toEqual({ kind: "refused", reason: "locked", by: "device" });
    const later = reserveOnDevice(account, third.device, p, T0 + 3 + 15 * MIN, "s");
    expect(later).toMatchObject({ kind: "reserved", attemptsRemaining: 2 });
  });

  it("a trusted device's success resets that device's counter only", () => {
    const p = policy();
    const d = device({ password: counter({ failures: 3, lastFailedAt: T0 }) });
    expect(onDeviceLoginCompleted(d, p, T0 + 1).password.failures).toBe(0);
    expect(onDeviceVerified(d, p, T0 + 1, null).password.failures).toBe(3);
  });
});

type Op =
  | { readonly who: "attacker"; readonly gap: number }
  | { readonly who: "user"; readonly gap: number; readonly right: boolean }
  | { readonly who: "unlock"; readonly gap: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ who: fc.constant("attacker" as const), gap: gapArb }) },
  { weight: 4, arbitrary: fc.record({ who: fc.constant("user" as const), gap: gapArb, right: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ who: fc.constant("unlock" as const), gap: gapArb }) },
);

/** Plays attacker guesses (no device) and the user's own attempts with their trusted device. */
function play(p: Policy, role: "user" | "admin", ops: readonly Op[], check: (now: number, account: LockoutState, d: DeviceState, op: Op) => void): void {
  let account = state({ role });
  let d = device();
  let now = T0;
  for (const op of ops) {
    now += op.gap;
    check(now, account, d, op);
    if (op.who === "attacker") {
      const r = reserve(account, "password", p, now, "a");
      if (r.kind === "reserved" || r.kind === "unlimited") {
        account = onFailure(r.kind === "reserved" ? r.state : account, "password", p, now,
          { ...NOT_LAST, slotId: r.kind === "reserved" ? "a" : null }).state;
      }
    } else if (op.who === "user") {
      const r = reserveOnDevice(account, d, p, now, "u");
      if (r.kind !== "reserved" && r.kind !== "unlimited") continue;
      const held = r.kind === "reserved" ? r.device : d;
      const slotId = r.kind === "reserved" ? "u" : null;
      d = op.right
        ? onDeviceLoginCompleted(onDeviceVerified(held, p, now, slotId), p, now)
        : onDeviceFailure(held, account, p, now, slotId).device;
    } else {
      account = unlock(account, p, now);
    }
  }
}

describe("trusted-device properties", () => {
  it("an attacker without a trusted device can never lock a trusted device out", () => {
    fc.assert(fc.property(policyArb, roleArb, fc.array(opArb, { maxLength: 120 }), (p, role, ops) => {
      // Only the user's own wrong passwords could lock their device; here the user is always right.
      const userRight = ops.map((op) => (op.who === "user" ? { ...op, right: true } : op));
      play(p, role, userRight, (now, account, d, op) => {
        if (op.who !== "user") return;
        const r = reserveOnDevice(account, d, p, now, "u");
        if (p.disableAfter === 0) {
          // Nothing the attacker does refuses the device: no lock, no wait.
          expect(r.kind === "reserved" || r.kind === "unlimited").toBe(true);
        } else if (r.kind === "refused") {
          // Only a disable (DISABLE_AFTER repeated lockouts) applies to all: never a lock.
          expect(r).toEqual({ kind: "refused", reason: "disabled", by: "account" });
        }
      });
    }), RUNS);
  });

  it("no counter ever runs more than threshold verifications, however attempts interleave", () => {
    // Reservations taken and never given back (in flight or failed): within one window and one
    // lock (at most 200 × 200 ms pass here, far less than either), each counter grants at most
    // `threshold` of them.
    const laneArb = fc.array(fc.record({ lane: fc.constantFrom("device" as const, "account" as const), fail: fc.boolean(), gap: fc.integer({ min: 0, max: 200 }) }), { maxLength: 200 });
    fc.assert(fc.property(policyArb, roleArb, laneArb, (raw, role, attempts) => {
      const p: Policy = { ...raw, windowMs: Math.max(raw.windowMs, 10 * MIN), durationMs: Math.max(raw.durationMs, 10 * MIN), maxDurationMs: Math.max(raw.maxDurationMs, 10 * MIN), slotTtlMs: 5 * MIN, disableAfter: 0 };
      let account = state({ role });
      let d = device();
      let now = T0;
      const granted = { device: 0, account: 0 };
      attempts.forEach((attempt, i) => {
        now += attempt.gap;
        const slotId = `s${i}`;
        if (attempt.lane === "device") {
          const r = reserveOnDevice(account, d, p, now, slotId);
          if (r.kind !== "reserved") return;
          granted.device += 1;
          d = attempt.fail ? onDeviceFailure(r.device, account, p, now, slotId).device : r.device;
        } else {
          const r = reserve(account, "password", p, now, slotId);
          if (r.kind !== "reserved") return;
          granted.account += 1;
          account = attempt.fail ? onFailure(r.state, "password", p, now, { ...NOT_LAST, slotId }).state : r.state;
        }
      });
      const threshold = thresholdFor(p, role, "password");
      expect(granted.device).toBeLessThanOrEqual(threshold);
      expect(granted.account).toBeLessThanOrEqual(threshold);
      // The device lane never locks the account.
      if (granted.account === 0) expect(statusOf(account, now)).toBe("active");
    }), RUNS);
  });

  it("a completed untrusted login still resets the account's counters as before", () => {
    const p = policy();
    const s = state({ lockoutCount: 2, password: counter({ failures: 3, lastFailedAt: T0 }) });
    expect(onLoginCompleted(s, p, T0 + SEC)).toMatchObject({ lockoutCount: 0, password: { failures: 0 } });
  });
});
