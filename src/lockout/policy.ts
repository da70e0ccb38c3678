import type { Factor, Policy, Role } from "./types.ts";

/** The latest lock end: a little before the last instant a JavaScript Date can hold. */
export const LATEST_LOCK_MS = 8.64e15 - 365 * 24 * 3_600_000;

/** The number of failures of `factor` that act on an account of `role`; 0 = never. */
export function thresholdFor(policy: Policy, role: Role, factor: Factor): number {
  if (factor === "mfa") return policy.mfaThreshold;
  return role === "admin" ? policy.adminThreshold : policy.threshold;
}

/**
 * Length of the n-th consecutive lock: DURATION × BACKOFF^(n-1), capped at MAX_DURATION.
 *
 * @example lockDuration(policy, 3) // 60 minutes with 15m and backoff 2
 */
export function lockDuration(policy: Policy, lockNumber: number): number {
  const exponent = Math.max(0, lockNumber - 1);
  const length = policy.durationMs * Math.pow(policy.backoff, exponent);
  // A huge exponent overflows to Infinity (or NaN with a bad policy): the cap still holds.
  return Number.isFinite(length) ? Math.min(policy.maxDurationMs, Math.round(length)) : policy.maxDurationMs;
}
