/** Known-answer tests for settle, the resets, attemptsRemaining and lockDuration. */
import { describe, expect, it } from "vitest";
import {
  attemptsRemaining, disable, enable, lockDuration, onFailure, onLoginCompleted, onVerified, reserve,
  settle, statusOf, thresholdFor, unlock, type LockoutState,
} from "../../src/lockout/index.ts";
import { HOUR, MIN, NOT_LAST, SEC, T0, counter, deepFreeze, policy, slot, state } from "./fixtures.ts";

const p = policy();

describe("settle", () => {
  const locked = (): LockoutState => deepFreeze(state({
    lockedUntil: T0, lockReason: "password", lockoutCount: 2,
    password: counter({ failures: 5, lastFailedAt: T0 - 30 * MIN, slots: [slot("live", T0 + SEC), slot("dead", T0)] }),
    mfa: counter({ failures: 2, lastFailedAt: T0 - 31 * MIN }),
  }));

  it("reports an expired lock as unlocked with both counters at 0, keeping lockoutCount", () => {
    expect(settle(locked(), p, T0)).toEqual(state({
      lockoutCount: 2,
      password: counter({ slots: [slot("live", T0 + SEC)] }),
      mfa: counter(),
    }));
    expect(statusOf(settle(locked(), p, T0), T0)).toBe("active");
  });

  it("leaves a lock that has not expired untouched", () => {
    expect(settle(locked(), p, T0 - 1)).toEqual(locked());
    expect(statusOf(locked(), T0 - 1)).toBe("locked");
    expect(statusOf(locked(), T0)).toBe("active");
  });

  it("gateway bug: after a lock expires, one wrong password does not re-lock", () => {
    const q = policy({ threshold: 3 });
    let s = state();
    for (let i = 0; i < 3; i++) s = onFailure(s, "password", q, T0 + i * SEC, NOT_LAST).state;
    expect(statusOf(s, T0 + 2 * SEC)).toBe("locked");
    const expiry = T0 + 2 * SEC + 15 * MIN;
    expect(s.lockedUntil).toBe(expiry);
    const d = onFailure(s, "password", q, expiry + MIN, NOT_LAST);
    expect(d.effects).toEqual([]);
    expect(statusOf(d.state, expiry + MIN)).toBe("active");
    expect(d.state.password.failures).toBe(1);
    expect(attemptsRemaining(d.state, "password", q, expiry + MIN)).toBe(2);
    expect(reserve(d.state, "password", q, expiry + MIN, "next").kind).toBe("reserved");
  });

  it("resets a counter once the window has passed since its last failure, per factor", () => {
    const s = deepFreeze(state({
      password: counter({ failures: 3, lastFailedAt: T0 }),
      mfa: counter({ failures: 2, lastFailedAt: T0 + 10 * MIN }),
    }));
    expect(settle(s, p, T0 + 15 * MIN - 1)).toEqual(s);
    expect(settle(s, p, T0 + 15 * MIN)).toEqual({ ...s, password: counter() });
    expect(settle(s, p, T0 + 25 * MIN)).toEqual({ ...s, password: counter(), mfa: counter() });
  });

  it("keeps slots across a window reset and drops expired ones", () => {
    const s = deepFreeze(state({ password: counter({ failures: 1, lastFailedAt: T0, slots: [slot("a", T0 + HOUR), slot("b", T0 + 20 * MIN)] }) }));
    expect(settle(s, p, T0 + 20 * MIN).password).toEqual(counter({ slots: [slot("a", T0 + HOUR)] }));
    expect(settle(s, p, T0 + 10 * MIN).password).toEqual(counter({ failures: 1, lastFailedAt: T0, slots: [slot("a", T0 + HOUR), slot("b", T0 + 20 * MIN)] }));
  });

  it("does not apply the window while the lock is still running", () => {
    const s = deepFreeze(state({ lockedUntil: T0 + 2 * HOUR, lockReason: "password", password: counter({ failures: 5, lastFailedAt: T0 }) }));
    expect(settle(s, p, T0 + HOUR)).toEqual(s);
    expect(attemptsRemaining(s, "password", p, T0 + HOUR)).toBe(0);
  });

  it("never mutates its (deep-frozen) input and is idempotent", () => {
    const s = locked();
    const copy = structuredClone(s);
    const once = settle(s, p, T0 + MIN);
    expect(s).toEqual(copy);
    expect(settle(once, p, T0 + MIN)).toEqual(once);
  });
});

describe("resets", () => {
  const busy = deepFreeze(state({
    lockoutCount: 3,
    password: counter({ failures: 2, lastFailedAt: T0 - SEC, slots: [slot("p", T0 + SEC)] }),
    mfa: counter({ failures: 3, lastFailedAt: T0 - SEC, slots: [slot("m", T0 + SEC)] }),
  }));

  it("onLoginCompleted resets both counters and the lockout count, keeping live slots", () => {
    expect(onLoginCompleted(busy, p, T0)).toEqual(state({
      password: counter({ slots: [slot("p", T0 + SEC)] }), mfa: counter({ slots: [slot("m", T0 + SEC)] }),
    }));
  });

  it("onVerified only gives the slot back: a correct password does not reset the mfa counter", () => {
    const after = onVerified(busy, "password", p, T0, "p");
    expect(after).toEqual({ ...busy, password: { ...busy.password, slots: [] } });
    expect(after.mfa.failures).toBe(3);
    expect(after.password.failures).toBe(2);
    expect(after.lockoutCount).toBe(3);
    expect(onVerified(busy, "mfa", p, T0, null)).toEqual(busy);
  });

  it("unlock lifts the lock, zeroes the counters and the lockout count", () => {
    const s = deepFreeze({ ...busy, lockedUntil: T0 + HOUR, lockReason: "mfa" as const });
    const u = unlock(s, p, T0);
    expect(u).toEqual(state({ password: counter({ slots: [slot("p", T0 + SEC)] }), mfa: counter({ slots: [slot("m", T0 + SEC)] }) }));
    expect(statusOf(u, T0)).toBe("active");
    expect(attemptsRemaining(u, "password", p, T0)).toBe(5);
  });

  it("unlock does not enable a disabled account; enable does, with fresh counters", () => {
    const d = disable(busy, "admin");
    expect(d).toEqual({ ...busy, disabledReason: "admin" });
    expect(statusOf(unlock(d, p, T0), T0)).toBe("disabled");
    const e = enable(deepFreeze({ ...d, lockedUntil: T0 + HOUR, lockReason: "password" as const }), p, T0);
    expect(e).toEqual(state({ password: counter({ slots: [slot("p", T0 + SEC)] }), mfa: counter({ slots: [slot("m", T0 + SEC)] }) }));
    expect(reserve(e, "password", p, T0, "x").kind).toBe("reserved");
  });
});

describe("attemptsRemaining", () => {
  it("is threshold minus failures for an active account", () => {
    expect(attemptsRemaining(state(), "password", p, T0)).toBe(5);
    const s = state({ password: counter({ failures: 2, lastFailedAt: T0 }), mfa: counter({ failures: 4, lastFailedAt: T0 }) });
    expect(attemptsRemaining(s, "password", p, T0)).toBe(3);
    expect(attemptsRemaining(s, "mfa", p, T0)).toBe(1);
    expect(attemptsRemaining({ ...s, role: "admin" }, "password", p, T0)).toBe(8);
    expect(attemptsRemaining(s, "password", p, T0 + 15 * MIN)).toBe(5);
  });

  it("ignores slots in flight", () => {
    const s = state({ password: counter({ slots: [slot("a", T0 + SEC), slot("b", T0 + SEC)] }) });
    expect(attemptsRemaining(s, "password", p, T0)).toBe(5);
  });

  it("is 0 while locked or disabled, and the full threshold once the lock has expired", () => {
    const s = state({ lockedUntil: T0, lockReason: "password", password: counter({ failures: 5, lastFailedAt: T0 - 10 * MIN }) });
    expect(attemptsRemaining(s, "password", p, T0 - 1)).toBe(0);
    expect(attemptsRemaining(s, "mfa", p, T0 - 1)).toBe(0);
    expect(attemptsRemaining(s, "password", p, T0)).toBe(5);
    expect(attemptsRemaining(state({ disabledReason: "mfa_failures" }), "password", p, T0)).toBe(0);
  });

  it("is null when the factor never locks", () => {
    expect(attemptsRemaining(state(), "password", policy({ threshold: 0 }), T0)).toBe(null);
    expect(attemptsRemaining(state({ role: "admin" }), "password", policy({ adminThreshold: 0 }), T0)).toBe(null);
    expect(attemptsRemaining(state(), "mfa", policy({ mfaThreshold: 0 }), T0)).toBe(null);
  });
});

describe("policy helpers", () => {
  it("thresholdFor picks the role's password threshold or the mfa threshold", () => {
    const q = policy({ threshold: 3, adminThreshold: 7, mfaThreshold: 4 });
    expect(thresholdFor(q, "user", "password")).toBe(3);
    expect(thresholdFor(q, "admin", "password")).toBe(7);
    expect(thresholdFor(q, "user", "mfa")).toBe(4);
    expect(thresholdFor(q, "admin", "mfa")).toBe(4);
  });

  it("lockDuration is DURATION × BACKOFF^(n-1), capped", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => lockDuration(p, n) / MIN)).toEqual([15, 30, 60, 120, 240, 480, 960]);
    expect(lockDuration(p, 8)).toBe(24 * HOUR);
    expect(lockDuration(p, 1000)).toBe(24 * HOUR);
    expect(lockDuration(policy({ backoff: 1 }), 9)).toBe(15 * MIN);
    expect(lockDuration(policy({ backoff: 1.5 }), 3)).toBe(Math.round(15 * MIN * 2.25));
    expect(lockDuration(policy({ durationMs: 2 * HOUR, maxDurationMs: HOUR }), 1)).toBe(HOUR);
  });
});
