/** Known-answer tests for reserve and onFailure. Every time is a fixed number. */
import { describe, expect, it } from "vitest";
import {
  onFailure, reserve, settle, statusOf,
  type Decision, type Factor, type FailureContext, type LockoutState, type Policy,
} from "../../src/lockout/index.ts";
import {
  HOUR, LAST_ADMIN, MIN, NOT_LAST, SEC, T0, counter, deepFreeze, policy, slot, state,
} from "./fixtures.ts";

/** `n` failures of `factor`, one second apart from `start`; returns every decision. */
function failures(
  s: LockoutState, n: number, factor: Factor, p: Policy, start: number,
  ctx: FailureContext = NOT_LAST,
): Decision[] {
  const out: Decision[] = [];
  let current = s;
  for (let i = 0; i < n; i++) {
    const d = onFailure(current, factor, p, start + i * SEC, ctx);
    out.push(d);
    current = d.state;
  }
  return out;
}

function last(ds: Decision[]): Decision {
  const d = ds.at(-1);
  if (d === undefined) throw new Error("no decisions");
  return d;
}

describe("reserve", () => {
  const p = policy();

  it("refuses a locked account", () => {
    const s = state({ lockedUntil: T0 + MIN, lockReason: "password", password: counter({ failures: 5, lastFailedAt: T0 - 1 }) });
    expect(reserve(s, "password", p, T0, "a")).toEqual({ kind: "refused", reason: "locked" });
    expect(reserve(s, "mfa", p, T0, "a")).toEqual({ kind: "refused", reason: "locked" });
  });

  it("refuses a disabled account, even when the factor never locks", () => {
    const s = state({ disabledReason: "admin" });
    expect(reserve(s, "password", p, T0, "a")).toEqual({ kind: "refused", reason: "disabled" });
    expect(reserve(s, "password", policy({ threshold: 0 }), T0, "a"))
      .toEqual({ kind: "refused", reason: "disabled" });
  });

  it("is unlimited when the applicable threshold is 0", () => {
    expect(reserve(state(), "password", policy({ threshold: 0 }), T0, "a")).toEqual({ kind: "unlimited" });
    expect(reserve(state({ role: "admin" }), "password", policy({ adminThreshold: 0 }), T0, "a"))
      .toEqual({ kind: "unlimited" });
    expect(reserve(state(), "mfa", policy({ mfaThreshold: 0 }), T0, "a")).toEqual({ kind: "unlimited" });
    // The user threshold being 0 does not make an admin unlimited, and vice versa.
    expect(reserve(state({ role: "admin" }), "password", policy({ threshold: 0 }), T0, "a").kind).toBe("reserved");
    expect(reserve(state(), "password", policy({ adminThreshold: 0 }), T0, "a").kind).toBe("reserved");
  });

  it("reserves a slot that expires after slotTtlMs", () => {
    const s = state({ password: counter({ failures: 2, lastFailedAt: T0 - SEC, slots: [slot("x", T0 + 5 * SEC)] }) });
    const r = reserve(s, "password", p, T0, "b");
    expect(r).toEqual({
      kind: "reserved",
      attemptsRemaining: 2,
      state: { ...s, password: { failures: 2, lastFailedAt: T0 - SEC, slots: [slot("x", T0 + 5 * SEC), slot("b", T0 + 30 * SEC)] } },
    });
  });

  it("says wait once failures plus live slots reach the threshold", () => {
    const three = [slot("a", T0 + SEC), slot("b", T0 + SEC), slot("c", T0 + SEC)];
    const s = state({ password: counter({ failures: 2, lastFailedAt: T0 - SEC, slots: three }) });
    expect(reserve(s, "password", p, T0, "d")).toEqual({ kind: "wait" });
    expect(reserve(state({ password: counter({ slots: [...three, slot("d", T0 + SEC), slot("e", T0 + SEC)] }) }), "password", p, T0, "f"))
      .toEqual({ kind: "wait" });
    // One fewer slot: the last attempt is granted, and it is the last one.
    const four = state({ password: counter({ failures: 2, lastFailedAt: T0 - SEC, slots: three.slice(0, 2) }) });
    const r = reserve(four, "password", p, T0, "d");
    expect(r.kind).toBe("reserved");
    expect(r.kind === "reserved" && r.attemptsRemaining).toBe(2);
  });

  it("does not count slots that have expired (expiresAt <= now)", () => {
    const s = state({ password: counter({ failures: 4, lastFailedAt: T0 - SEC, slots: [slot("old", T0)] }) });
    const r = reserve(s, "password", p, T0, "new");
    expect(r.kind).toBe("reserved");
    if (r.kind === "reserved") {
      expect(r.state.password.slots).toEqual([slot("new", T0 + 30 * SEC)]);
      expect(r.attemptsRemaining).toBe(0);
    }
    expect(reserve(s, "password", p, T0 - 1, "new")).toEqual({ kind: "wait" });
  });

  it("uses adminThreshold for admins", () => {
    const busy = counter({ failures: 4, lastFailedAt: T0 - SEC, slots: [slot("a", T0 + SEC)] });
    expect(reserve(state({ password: busy }), "password", p, T0, "b")).toEqual({ kind: "wait" });
    const r = reserve(state({ role: "admin", password: busy }), "password", p, T0, "b");
    expect(r.kind === "reserved" && r.attemptsRemaining).toBe(10 - 4 - 1);
  });

  it("uses mfaThreshold for the second factor, independently of the password counter", () => {
    const q = policy({ mfaThreshold: 3 });
    const busy = counter({ failures: 2, lastFailedAt: T0 - SEC, slots: [slot("a", T0 + SEC)] });
    expect(reserve(state({ mfa: busy }), "mfa", q, T0, "b")).toEqual({ kind: "wait" });
    expect(reserve(state({ role: "admin", mfa: busy }), "mfa", q, T0, "b")).toEqual({ kind: "wait" });
    const r = reserve(state({ mfa: busy }), "password", q, T0, "b");
    expect(r.kind === "reserved" && r.attemptsRemaining).toBe(4);
  });

  it("grants a fresh set of attempts once a lock has expired", () => {
    const s = state({ lockedUntil: T0, lockReason: "password", lockoutCount: 1, password: counter({ failures: 5, lastFailedAt: T0 - 15 * MIN }) });
    const r = reserve(s, "password", p, T0, "a");
    expect(r.kind === "reserved" && r.attemptsRemaining).toBe(4);
    expect(r.kind === "reserved" && r.state.lockedUntil).toBe(null);
  });
});

describe("onFailure", () => {
  const p = policy();

  it("counts a failure and stamps lastFailedAt", () => {
    const d = onFailure(state(), "password", p, T0, NOT_LAST);
    expect(d.effects).toEqual([]);
    expect(d.state).toEqual(state({ password: counter({ failures: 1, lastFailedAt: T0 }) }));
  });

  it("warns at threshold - 1 and locks exactly at the threshold for now + duration", () => {
    const ds = failures(state(), 5, "password", p, T0);
    expect(ds.slice(0, 3).map((d) => d.effects)).toEqual([[], [], []]);
    expect(ds[2]?.state.lockedUntil).toBe(null);
    expect(ds[3]?.effects).toEqual([{ type: "near_threshold", factor: "password", attemptsRemaining: 1 }]);
    expect(statusOf(ds[3]!.state, T0 + 3 * SEC)).toBe("active");
    const now = T0 + 4 * SEC;
    expect(last(ds).effects).toEqual([{
      type: "locked", factor: "password", failedAttempts: 5, lockedUntil: now + 15 * MIN, lockoutCount: 1, insteadOfDisable: false,
    }]);
    expect(last(ds).state).toMatchObject({ lockedUntil: now + 15 * MIN, lockReason: "password", lockoutCount: 1, disabledReason: null });
    expect(statusOf(last(ds).state, now + 15 * MIN - 1)).toBe("locked");
  });

  it("has no near_threshold warning when the threshold is 1", () => {
    const d = onFailure(state(), "password", policy({ threshold: 1 }), T0, NOT_LAST);
    expect(d.effects.map((e) => e.type)).toEqual(["locked"]);
  });

  it("never locks when the threshold is 0", () => {
    const ds = failures(state(), 40, "password", policy({ threshold: 0 }), T0);
    expect(ds.flatMap((d) => d.effects)).toEqual([]);
    expect(last(ds).state.password.failures).toBe(40);
    expect(last(ds).state.lockedUntil).toBe(null);
  });

  it("backs off consecutive locks: 15m, 30m, 60m, 120m, then capped at the maximum", () => {
    const q = policy({ threshold: 2, maxDurationMs: 3 * HOUR });
    let s = state();
    let now = T0;
    const lengths: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = last(failures(s, 2, "password", q, now));
      const lock = d.effects[0];
      if (lock?.type !== "locked") throw new Error(`expected a lock, got ${JSON.stringify(d.effects)}`);
      expect(lock.lockoutCount).toBe(i + 1);
      lengths.push(lock.lockedUntil - (now + SEC));
      s = d.state;
      now = lock.lockedUntil; // the lock has just expired
    }
    expect(lengths).toEqual([15 * MIN, 30 * MIN, 60 * MIN, 2 * HOUR, 3 * HOUR, 3 * HOUR]);
  });

  it("disables after disableAfter consecutive locks (repeated_lockouts)", () => {
    const q = policy({ threshold: 2, disableAfter: 3 });
    const s = state({ lockoutCount: 2, password: counter({ failures: 1, lastFailedAt: T0 - SEC }) });
    const d = onFailure(s, "password", q, T0, NOT_LAST);
    expect(d.effects).toEqual([{ type: "disabled", factor: "password", reason: "repeated_lockouts", failedAttempts: 2, lockoutCount: 3 }]);
    expect(d.state).toMatchObject({ disabledReason: "repeated_lockouts", lockedUntil: null, lockoutCount: 3 });
    expect(statusOf(d.state, T0 + 100 * HOUR)).toBe("disabled");
    expect(reserve(d.state, "password", q, T0 + 100 * HOUR, "x")).toEqual({ kind: "refused", reason: "disabled" });
  });

  it("disables the account when the mfa counter reaches mfaThreshold with mfaAction disable", () => {
    const q = policy({ mfaThreshold: 3, mfaAction: "disable" });
    const d = last(failures(state(), 3, "mfa", q, T0));
    expect(d.effects).toEqual([{ type: "disabled", factor: "mfa", reason: "mfa_failures", failedAttempts: 3, lockoutCount: 1 }]);
    expect(d.state.disabledReason).toBe("mfa_failures");
  });

  it("locks with lockReason mfa when mfaAction is lock", () => {
    const q = policy({ mfaThreshold: 3, mfaAction: "lock" });
    const d = last(failures(state(), 3, "mfa", q, T0));
    expect(d.effects).toEqual([{ type: "locked", factor: "mfa", failedAttempts: 3, lockedUntil: T0 + 2 * SEC + 15 * MIN, lockoutCount: 1, insteadOfDisable: false }]);
    expect(d.state).toMatchObject({ lockReason: "mfa", disabledReason: null, password: { failures: 0 } });
  });

  it("locks the last active admin instead of disabling it (repeated_lockouts)", () => {
    const q = policy({ adminThreshold: 2, disableAfter: 1 });
    const admin = state({ role: "admin", password: counter({ failures: 1, lastFailedAt: T0 - SEC }) });
    const locked = onFailure(admin, "password", q, T0, LAST_ADMIN);
    expect(locked.effects).toEqual([{ type: "locked", factor: "password", failedAttempts: 2, lockedUntil: T0 + 15 * MIN, lockoutCount: 1, insteadOfDisable: true }]);
    expect(locked.state).toMatchObject({ disabledReason: null, lockedUntil: T0 + 15 * MIN, lockReason: "password" });
    // Another admin is still active: policy applies.
    const disabled = onFailure(admin, "password", q, T0, NOT_LAST);
    expect(disabled.effects).toEqual([{ type: "disabled", factor: "password", reason: "repeated_lockouts", failedAttempts: 2, lockoutCount: 1 }]);
  });

  it("locks the last active admin instead of disabling it (mfa_failures)", () => {
    const q = policy({ mfaThreshold: 1, mfaAction: "disable" });
    const d = onFailure(state({ role: "admin", lockoutCount: 2 }), "mfa", q, T0, LAST_ADMIN);
    expect(d.effects).toEqual([{ type: "locked", factor: "mfa", failedAttempts: 1, lockedUntil: T0 + 60 * MIN, lockoutCount: 3, insteadOfDisable: true }]);
    expect(d.state.disabledReason).toBe(null);
  });

  it("releases only its own slot", () => {
    const s = state({ password: counter({ slots: [slot("a", T0 + SEC), slot("b", T0 + SEC)] }) });
    const d = onFailure(s, "password", p, T0, { slotId: "a", isLastActiveAdmin: false });
    expect(d.state.password).toEqual({ failures: 1, lastFailedAt: T0, slots: [slot("b", T0 + SEC)] });
  });

  it("changes nothing but the slot when the account is already locked", () => {
    const s = deepFreeze(state({
      lockedUntil: T0 + MIN, lockReason: "password", lockoutCount: 1,
      password: counter({ failures: 5, lastFailedAt: T0 - SEC, slots: [slot("a", T0 + SEC), slot("b", T0 + SEC)] }),
    }));
    const d = onFailure(s, "password", p, T0, { slotId: "a", isLastActiveAdmin: false });
    expect(d.effects).toEqual([]);
    expect(d.state).toEqual({ ...s, password: { ...s.password, slots: [slot("b", T0 + SEC)] } });
    const m = onFailure(s, "mfa", p, T0, NOT_LAST);
    expect(m).toEqual({ state: s, effects: [] });
  });

  it("changes nothing but the slot when the account is disabled", () => {
    const s = deepFreeze(state({ disabledReason: "admin", mfa: counter({ failures: 1, lastFailedAt: T0 - SEC, slots: [slot("m", T0 + SEC)] }) }));
    const d = onFailure(s, "mfa", p, T0, { slotId: "m", isLastActiveAdmin: false });
    expect(d.effects).toEqual([]);
    expect(d.state).toEqual({ ...s, mfa: { failures: 1, lastFailedAt: T0 - SEC, slots: [] } });
  });

  it("starts over after the window, and after an expired lock (settled first)", () => {
    const windowed = state({ password: counter({ failures: 4, lastFailedAt: T0 }) });
    expect(onFailure(windowed, "password", p, T0 + 15 * MIN, NOT_LAST).state.password.failures).toBe(1);
    expect(onFailure(windowed, "password", p, T0 + 15 * MIN - 1, NOT_LAST).effects[0]?.type).toBe("locked");
    const expired = settle(state({ lockedUntil: T0, lockReason: "password", lockoutCount: 1, password: counter({ failures: 5, lastFailedAt: T0 - HOUR }) }), p, T0);
    expect(onFailure(expired, "password", p, T0, NOT_LAST).state.password.failures).toBe(1);
  });
});
