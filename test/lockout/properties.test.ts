/** Property tests over random policies and random account histories with random time gaps. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  attemptsRemaining, disable, enable, lockDuration, onFailure, onLoginCompleted, onVerified, reserve,
  settle, statusOf, thresholdFor, unlock,
  type Effect, type Factor, type LockoutState, type Policy, type Role,
} from "../../src/lockout/index.ts";
import {
  HOUR, RUNS, T0, deepFreeze, eventsArb, factorArb, policyArb, roleArb, state, stateArb,
  type Event,
} from "./fixtures.ts";

const FACTORS: readonly Factor[] = ["password", "mfa"];

interface Step {
  readonly event: Event;
  readonly now: number;
  readonly before: LockoutState;
  readonly after: LockoutState;
  readonly effects: readonly Effect[];
}

/** Plays a history through the engine, the way the shell would (logins only when active). */
function simulate(p: Policy, role: Role, isLastActiveAdmin: boolean, events: readonly Event[]): Step[] {
  const steps: Step[] = [];
  let s = state({ role });
  let now = T0;
  for (const event of events) {
    now += event.gap;
    const before = s;
    let effects: readonly Effect[] = [];
    switch (event.kind) {
      case "failure": {
        const d = onFailure(s, event.factor, p, now, { slotId: null, isLastActiveAdmin });
        s = d.state;
        effects = d.effects;
        break;
      }
      case "verified": s = onVerified(s, event.factor, p, now, null); break;
      case "login": if (statusOf(settle(s, p, now), now) === "active") s = onLoginCompleted(s, p, now); break;
      case "unlock": s = s.disabledReason !== null ? enable(s, p, now) : unlock(s, p, now); break;
    }
    steps.push({ event, now, before, after: s, effects });
  }
  return steps;
}

const acting = (e: Effect): boolean => e.type === "locked" || e.type === "disabled";

const historyArb = fc.record({ p: policyArb, role: roleArb, last: fc.boolean(), events: eventsArb });

describe("lockout properties", () => {
  it("1a. never more than threshold failures between resets (model-checked counter)", () => {
    fc.assert(fc.property(historyArb, ({ p, role, last, events }) => {
      const accepted = { password: 0, mfa: 0 };
      const lastAt: Record<Factor, number | null> = { password: null, mfa: null };
      let lockedUntil: number | null = null;
      let disabled = false;
      const reset = (): void => { for (const f of FACTORS) { accepted[f] = 0; lastAt[f] = null; } };
      for (const { event, now, after, effects } of simulate(p, role, last, events)) {
        if (lockedUntil !== null && now >= lockedUntil) { lockedUntil = null; reset(); }
        for (const f of FACTORS) {
          const at = lastAt[f];
          if (lockedUntil === null && at !== null && now - at >= p.windowMs) { accepted[f] = 0; lastAt[f] = null; }
        }
        const active = !disabled && lockedUntil === null;
        if (event.kind === "failure") {
          const f = event.factor;
          const threshold = thresholdFor(p, role, f);
          if (!active) {
            expect(effects).toEqual([]);
          } else {
            accepted[f] += 1;
            lastAt[f] = now;
            expect(accepted[f]).toBeLessThanOrEqual(threshold);
            const acts = effects.filter(acting);
            if (accepted[f] === threshold) {
              expect(acts).toHaveLength(1);
              const e = acts[0]!;
              expect(e).toMatchObject({ factor: f, failedAttempts: threshold });
              if (e.type === "locked") lockedUntil = e.lockedUntil; else disabled = true;
            } else {
              expect(acts).toEqual([]);
              expect(after[f].failures).toBe(accepted[f]);
              const near = effects.filter((x) => x.type === "near_threshold");
              expect(near.length).toBe(accepted[f] === threshold - 1 ? 1 : 0);
            }
          }
        } else if (event.kind === "login" && active) {
          reset();
        } else if (event.kind === "unlock") {
          reset(); lockedUntil = null; disabled = false;
        }
        expect(statusOf(after, now)).toBe(disabled ? "disabled" : lockedUntil !== null ? "locked" : "active");
      }
    }), RUNS);
  });

  it("1b. without window or login resets, at most threshold failures are accepted between lock/disable effects", () => {
    const failOnly = fc.array(
      fc.record({ kind: fc.constant("failure" as const), factor: factorArb, gap: fc.integer({ min: 0, max: 3 * HOUR }) }),
      { minLength: 1, maxLength: 80, size: "large" },
    );
    fc.assert(fc.property(policyArb, roleArb, fc.boolean(), failOnly, (base, role, last, events) => {
      const p = { ...base, windowMs: 10_000 * HOUR };
      const since = { password: 0, mfa: 0 };
      for (const { event, now, before, effects } of simulate(p, role, last, events)) {
        if (event.kind !== "failure") continue;
        const f = event.factor;
        // Accepted = the engine had to verify and record it: the account was active.
        if (statusOf(settle(before, p, now), now) !== "active") { expect(effects).toEqual([]); continue; }
        since[f] += 1;
        expect(since[f]).toBeLessThanOrEqual(thresholdFor(p, role, f));
        if (effects.some(acting)) for (const g of FACTORS) since[g] = 0;
      }
    }), RUNS);
  });

  it("3. an expired lock leaves a fresh set of attempts", () => {
    fc.assert(fc.property(historyArb, fc.integer({ min: 0, max: 50 * HOUR }), ({ p, role, last, events }, extra) => {
      for (const { after, effects } of simulate(p, role, last, events)) {
        for (const e of effects) {
          if (e.type !== "locked") continue;
          const later = e.lockedUntil + extra;
          expect(statusOf(after, e.lockedUntil - 1)).toBe("locked");
          expect(statusOf(settle(after, p, later), later)).toBe("active");
          for (const f of FACTORS) {
            const threshold = thresholdFor(p, role, f);
            expect(attemptsRemaining(after, f, p, later)).toBe(threshold);
            const r = reserve(after, f, p, later, "fresh");
            expect(r.kind === "reserved" && r.attemptsRemaining).toBe(threshold - 1);
          }
        }
      }
    }), RUNS);
  });

  it("4a. lockDuration is non-decreasing in the lock number and never exceeds maxDurationMs", () => {
    fc.assert(fc.property(policyArb, fc.integer({ min: 1, max: 60 }), (p, n) => {
      const a = lockDuration(p, n);
      const b = lockDuration(p, n + 1);
      expect(b).toBeGreaterThanOrEqual(a);
      expect(b).toBeLessThanOrEqual(p.maxDurationMs);
      expect(a).toBe(Math.min(p.maxDurationMs, Math.round(p.durationMs * p.backoff ** (n - 1))));
    }), RUNS);
  });

  it("4b. consecutive locks count up by one and back off without ever shrinking", () => {
    fc.assert(fc.property(historyArb, ({ p, role, last, events }) => {
      let previous: { count: number; length: number } | null = null;
      for (const { event, now, before, effects } of simulate(p, role, last, events)) {
        const applied = event.kind === "login" && statusOf(settle(before, p, now), now) === "active";
        if (event.kind === "unlock" || applied) previous = null;
        for (const e of effects) {
          if (e.type === "near_threshold") continue;
          expect(e.lockoutCount).toBe((previous?.count ?? 0) + 1);
          if (e.type === "disabled") { previous = null; continue; }
          const length = e.lockedUntil - now;
          expect(length).toBe(lockDuration(p, e.lockoutCount));
          expect(length).toBeLessThanOrEqual(p.maxDurationMs);
          if (previous !== null) expect(length).toBeGreaterThanOrEqual(previous.length);
          previous = { count: e.lockoutCount, length };
        }
      }
    }), RUNS);
  });

  it("5. the last active admin is never disabled by onFailure; policy locks it instead", () => {
    fc.assert(fc.property(policyArb, eventsArb, (p, events) => {
      for (const { after, effects } of simulate(p, "admin", true, events)) {
        expect(after.disabledReason).toBe(null);
        for (const e of effects) {
          expect(e.type).not.toBe("disabled");
          if (e.type !== "locked") continue;
          const wouldDisable = (e.factor === "mfa" && p.mfaAction === "disable")
            || (p.disableAfter > 0 && e.lockoutCount >= p.disableAfter);
          expect(e.insteadOfDisable).toBe(wouldDisable);
        }
      }
    }), RUNS);
  });

  it("5b. (control) when another admin is active, policy disables exactly where it would", () => {
    fc.assert(fc.property(policyArb, eventsArb, (p, events) => {
      for (const { effects } of simulate(p, "admin", false, events)) {
        for (const e of effects) {
          if (e.type === "near_threshold") continue;
          const wouldDisable = (e.factor === "mfa" && p.mfaAction === "disable")
            || (p.disableAfter > 0 && e.lockoutCount >= p.disableAfter);
          expect(e.type).toBe(wouldDisable ? "disabled" : "locked");
          if (e.type === "locked") expect(e.insteadOfDisable).toBe(false);
        }
      }
    }), RUNS);
  });

  it("6. reads never write, and settle is idempotent", () => {
    const nowArb = fc.integer({ min: T0 - 4 * HOUR, max: T0 + 4 * HOUR });
    fc.assert(fc.property(stateArb, policyArb, nowArb, factorArb, (raw, p, now, f) => {
      const snapshot = structuredClone(raw);
      const s = deepFreeze(raw);
      const settled = settle(s, p, now);
      expect(settle(settled, p, now)).toEqual(settled);
      expect(statusOf(settled, now)).toBe(statusOf(s, now));
      expect(attemptsRemaining(settled, f, p, now)).toBe(attemptsRemaining(s, f, p, now));
      if (s.lockedUntil !== null && s.lockedUntil <= now) {
        expect(settled.password.failures).toBe(0);
        expect(settled.mfa.failures).toBe(0);
      }
      if (settled.lockedUntil === null) {
        // Unlocked states carry no dead slots (while a lock runs, slots are left as they are).
        for (const c of [settled.password, settled.mfa]) for (const x of c.slots) expect(x.expiresAt).toBeGreaterThan(now);
      }
      reserve(s, f, p, now, "probe");
      expect(s).toEqual(snapshot);
    }), RUNS);
  });

  it("6b. writes return new states and never mutate their input either", () => {
    const nowArb = fc.integer({ min: T0 - 4 * HOUR, max: T0 + 4 * HOUR });
    fc.assert(fc.property(stateArb, policyArb, nowArb, factorArb, fc.boolean(), (raw, p, now, f, last) => {
      const snapshot = structuredClone(raw);
      const s = deepFreeze(raw);
      const slotId = s[f].slots[0]?.id ?? null;
      const d = onFailure(s, f, p, now, { slotId, isLastActiveAdmin: last });
      if (slotId !== null) expect(d.state[f].slots.map((x) => x.id)).not.toContain(slotId);
      onVerified(s, f, p, now, slotId);
      onLoginCompleted(s, p, now);
      unlock(s, p, now);
      enable(s, p, now);
      disable(s, "admin");
      expect(s).toEqual(snapshot);
    }), RUNS);
  });
});
