/**
 * Concurrency model: N actors share one stored state (as processes share one database row) and
 * their steps are applied one at a time in an order chosen by fast-check. An actor verifies a
 * secret only once its reserve returned `reserved`; a surplus actor that got `wait` asks again.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  onFailure, onVerified, reserve, statusOf, thresholdFor,
  type Factor, type LockoutState, type Policy, type Role,
} from "../../src/lockout/index.ts";
import { MIN, RUNS, T0, counter, factorArb, policyArb, roleArb, state } from "./fixtures.ts";

type Phase = "idle" | "reserved" | "waiting" | "refused" | "done";

interface Scenario {
  readonly p: Policy;
  readonly role: Role;
  readonly factor: Factor;
  readonly last: boolean;
  /** Failures already recorded before the burst (always below the threshold). */
  readonly prior: number;
  /** Per actor: whether its secret is correct. */
  readonly correct: readonly boolean[];
  /** Actor indices, each exactly twice: first occurrence reserves, second finishes. */
  readonly order: readonly number[];
  /** Milliseconds between consecutive steps: well inside the slot TTL and the window. */
  readonly gaps: readonly number[];
}

const scenarioArb = (allCorrect: boolean): fc.Arbitrary<Scenario> =>
  fc.record({ p: policyArb, role: roleArb, factor: factorArb, last: fc.boolean(), n: fc.integer({ min: 1, max: 50 }), priorSeed: fc.nat() })
    .chain(({ p, role, factor, last, n, priorSeed }) => {
      const threshold = thresholdFor(p, role, factor);
      const twice = Array.from({ length: 2 * n }, (_, i) => i % n);
      return fc.record({
        // Slots, windows and locks all outlast the burst (at most a few seconds).
        p: fc.constant({
          ...p,
          slotTtlMs: Math.max(p.slotTtlMs, 10 * MIN),
          durationMs: Math.max(p.durationMs, 10 * MIN),
          maxDurationMs: Math.max(p.maxDurationMs, 10 * MIN),
        }),
        role: fc.constant(role),
        factor: fc.constant(factor),
        last: fc.constant(last),
        prior: fc.constant(priorSeed % threshold),
        correct: allCorrect ? fc.constant(Array<boolean>(n).fill(true)) : fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        order: fc.shuffledSubarray(twice, { minLength: 2 * n, maxLength: 2 * n }),
        gaps: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 4 * n, maxLength: 4 * n }),
      });
    });

interface Outcome {
  readonly state: LockoutState;
  readonly phases: readonly Phase[];
  readonly wrongVerifications: number;
  readonly correctVerifications: number;
  readonly refusedWhileActive: number;
  readonly maxInFlight: number;
}

function play(sc: Scenario): Outcome {
  const { p, factor } = sc;
  const threshold = thresholdFor(p, sc.role, factor);
  let s: LockoutState = state({ role: sc.role, [factor]: counter({ failures: sc.prior, lastFailedAt: sc.prior > 0 ? T0 : null }) });
  const phases: Phase[] = sc.correct.map(() => "idle");
  let now = T0;
  let tick = 0;
  let wrong = 0;
  let right = 0;
  let refusedWhileActive = 0;
  let maxInFlight = 0;

  const tryReserve = (actor: number): boolean => {
    const r = reserve(s, factor, p, now, `slot-${actor}`);
    if (r.kind === "reserved") {
      expect(r.attemptsRemaining).toBe(threshold - s[factor].failures - 1);
      s = r.state;
      phases[actor] = "reserved";
      maxInFlight = Math.max(maxInFlight, s[factor].slots.length);
      return true;
    }
    if (r.kind === "refused") {
      if (statusOf(s, now) === "active") refusedWhileActive += 1;
      phases[actor] = "refused";
    } else {
      expect(r.kind).toBe("wait");
      phases[actor] = "waiting";
    }
    return false;
  };

  const verify = (actor: number): void => {
    const ctx = { slotId: `slot-${actor}`, isLastActiveAdmin: sc.last };
    if (sc.correct[actor]) {
      right += 1;
      s = onVerified(s, factor, p, now, ctx.slotId);
    } else {
      wrong += 1;
      // The core claim: no more than `threshold` failed secrets are ever verified.
      expect(sc.prior + wrong).toBeLessThanOrEqual(threshold);
      s = onFailure(s, factor, p, now, ctx).state;
    }
    phases[actor] = "done";
  };

  for (const actor of sc.order) {
    now += sc.gaps[tick++] ?? 0;
    const phase = phases[actor];
    if (phase === "idle") tryReserve(actor);
    else if (phase === "reserved") verify(actor);
    else if (phase === "waiting" && tryReserve(actor)) verify(actor);
  }
  // Whoever still waits keeps asking until it verifies or is refused.
  for (let round = 0; round < sc.correct.length + 1 && phases.includes("waiting"); round++) {
    for (let actor = 0; actor < phases.length; actor++) {
      if (phases[actor] !== "waiting") continue;
      now += sc.gaps[tick++] ?? 0;
      if (tryReserve(actor)) verify(actor);
    }
  }
  return { state: s, phases, wrongVerifications: wrong, correctVerifications: right, refusedWhileActive, maxInFlight };
}

describe("concurrent attempts", () => {
  it("N concurrent attempts verify at most `threshold` wrong secrets before the account acts", () => {
    fc.assert(fc.property(scenarioArb(false), (sc) => {
      const threshold = thresholdFor(sc.p, sc.role, sc.factor);
      const out = play(sc);
      expect(sc.prior + out.wrongVerifications).toBeLessThanOrEqual(threshold);
      expect(out.maxInFlight).toBeLessThanOrEqual(threshold - sc.prior);
      expect(out.refusedWhileActive).toBe(0);
      const status = statusOf(out.state, T0 + 5 * MIN);
      // The threshold-th wrong secret locks (or disables); anything less leaves it active.
      expect(status !== "active").toBe(sc.prior + out.wrongVerifications === threshold);
      // Nobody is stuck: every actor verified, unless the account acted and refused the rest.
      expect(out.phases.includes("waiting")).toBe(false);
      expect(out.phases.includes("reserved")).toBe(false);
      if (status === "active") expect(out.phases.every((x) => x === "done")).toBe(true);
      else expect(out.phases.every((x) => x === "done" || x === "refused")).toBe(true);
      // Every slot was given back.
      expect(out.state[sc.factor].slots).toEqual([]);
    }), RUNS);
  });

  it("N concurrent correct logins all succeed: surplus attempts wait, none is refused", () => {
    fc.assert(fc.property(scenarioArb(true), (sc) => {
      const threshold = thresholdFor(sc.p, sc.role, sc.factor);
      const out = play(sc);
      expect(out.phases.every((x) => x === "done")).toBe(true);
      expect(out.correctVerifications).toBe(sc.correct.length);
      expect(out.maxInFlight).toBeLessThanOrEqual(threshold - sc.prior);
      expect(out.state[sc.factor]).toEqual(counter({ failures: sc.prior, lastFailedAt: sc.prior > 0 ? T0 : null }));
      expect(statusOf(out.state, T0 + 5 * MIN)).toBe("active");
    }), RUNS);
  });
});
