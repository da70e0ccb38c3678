/** Shared builders and arbitraries for the lockout engine tests. No clock reads anywhere. */
import fc from "fast-check";
import type {
  DisabledReason, Factor, FactorCounter, LockoutState, Policy, Role, Slot,
} from "../../src/lockout/index.ts";

export const SEC = 1_000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;

/** A fixed "now" so that every known answer is a plain number. */
export const T0 = 1_700_000_000_000;

export function policy(overrides: Partial<Policy> = {}): Policy {
  return {
    threshold: 5,
    adminThreshold: 10,
    windowMs: 15 * MIN,
    durationMs: 15 * MIN,
    backoff: 2,
    maxDurationMs: 24 * HOUR,
    disableAfter: 0,
    mfaThreshold: 5,
    mfaAction: "lock",
    slotTtlMs: 30 * SEC,
    ...overrides,
  };
}

export function counter(overrides: Partial<FactorCounter> = {}): FactorCounter {
  return { failures: 0, lastFailedAt: null, slots: [], ...overrides };
}

export function slot(id: string, expiresAt: number): Slot {
  return { id, expiresAt };
}

export function state(overrides: Partial<LockoutState> = {}): LockoutState {
  return {
    role: "user",
    disabledReason: null,
    lockedUntil: null,
    lockReason: null,
    lockoutCount: 0,
    password: counter(),
    mfa: counter(),
    ...overrides,
  };
}

export const NOT_LAST = { slotId: null, isLastActiveAdmin: false } as const;
export const LAST_ADMIN = { slotId: null, isLastActiveAdmin: true } as const;

/** Recursively freezes a value so that any write by the engine throws (ESM is strict). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

// ---------------------------------------------------------------- arbitraries

export const factorArb: fc.Arbitrary<Factor> = fc.constantFrom("password", "mfa");
export const roleArb: fc.Arbitrary<Role> = fc.constantFrom("user", "admin");

/** Random policies: thresholds 1..10, backoff 1..4 (integer or fractional), disableAfter 0..4. */
export const policyArb: fc.Arbitrary<Policy> = fc.record({
  threshold: fc.integer({ min: 1, max: 10 }),
  adminThreshold: fc.integer({ min: 1, max: 10 }),
  windowMs: fc.integer({ min: 1 * MIN, max: 2 * HOUR }),
  durationMs: fc.integer({ min: 1 * SEC, max: 2 * HOUR }),
  backoff: fc.oneof(
    fc.integer({ min: 1, max: 4 }),
    fc.double({ min: 1, max: 4, noNaN: true, noDefaultInfinity: true }),
  ),
  maxDurationMs: fc.integer({ min: 1 * SEC, max: 48 * HOUR }),
  disableAfter: fc.integer({ min: 0, max: 4 }),
  mfaThreshold: fc.integer({ min: 1, max: 10 }),
  mfaAction: fc.constantFrom("lock" as const, "disable" as const),
  slotTtlMs: fc.integer({ min: 1 * SEC, max: 5 * MIN }),
});

const timeArb = fc.integer({ min: T0 - 3 * HOUR, max: T0 + 3 * HOUR });

const slotsArb: fc.Arbitrary<Slot[]> = fc.uniqueArray(
  fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), expiresAt: timeArb }),
  { maxLength: 4, selector: (s) => s.id },
);

export const counterArb: fc.Arbitrary<FactorCounter> = fc.record({
  failures: fc.integer({ min: 0, max: 12 }),
  lastFailedAt: fc.option(timeArb, { nil: null }),
  slots: slotsArb,
});

/** Arbitrary (not necessarily reachable) stored states, for read-only and idempotence checks. */
export const stateArb: fc.Arbitrary<LockoutState> = fc.record({
  role: roleArb,
  disabledReason: fc.option(
    fc.constantFrom<DisabledReason>("admin", "mfa_failures", "repeated_lockouts"), { nil: null }),
  lockedUntil: fc.option(timeArb, { nil: null }),
  lockReason: fc.option(factorArb, { nil: null }),
  lockoutCount: fc.integer({ min: 0, max: 6 }),
  password: counterArb,
  mfa: counterArb,
});

/** One step of a random account history; `gap` is the time that passes before it. */
export type Event =
  | { readonly kind: "failure"; readonly factor: Factor; readonly gap: number }
  | { readonly kind: "verified"; readonly factor: Factor; readonly gap: number }
  | { readonly kind: "login"; readonly gap: number }
  | { readonly kind: "unlock"; readonly gap: number };

/** Gaps are mostly short, sometimes long enough to outlast windows and (backed-off) locks. */
export const gapArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 10 * SEC }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 30 * MIN }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 50 * HOUR }) },
);

export const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 24, arbitrary: fc.record({ kind: fc.constant("failure" as const), factor: factorArb, gap: gapArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("verified" as const), factor: factorArb, gap: gapArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("login" as const), gap: gapArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unlock" as const), gap: gapArb }) },
);

export const eventsArb: fc.Arbitrary<Event[]> = fc.array(eventArb, { minLength: 1, maxLength: 100, size: "large" });

export const RUNS = { numRuns: 300 } as const;
