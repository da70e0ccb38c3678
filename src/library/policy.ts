import type { Policy } from "../lockout/index.ts";
import { SLOT_TTL_MS } from "../runtime.ts";
import { LockoutUsageError, type LockoutPolicy } from "./types.ts";

const MINUTE = 60_000;
const TEN_YEARS_MS = 10 * 365 * 24 * 60 * MINUTE;
const FIELDS: ReadonlySet<string> = new Set([
  "threshold", "windowMs", "durationMs", "backoff", "maxDurationMs", "disableAfter", "mfaThreshold", "mfaAction",
]);

function wholeNumber(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new LockoutUsageError(`createLockout: policy.${field} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function milliseconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > TEN_YEARS_MS) {
    throw new LockoutUsageError(
      `createLockout: policy.${field} must be a whole number of milliseconds from 1 to ${TEN_YEARS_MS} (10 years) (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * Validates the library's policy once, at creation, and fills in the defaults; throws
 * {@link LockoutUsageError} naming the field.
 */
export function resolvePolicy(input: LockoutPolicy | undefined): Policy {
  if (input !== undefined && (typeof input !== "object" || input === null || Array.isArray(input))) {
    throw new LockoutUsageError("createLockout: policy must be an object");
  }
  const given = (input ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(given).find((key) => !FIELDS.has(key));
  if (unknown !== undefined) throw new LockoutUsageError(`createLockout: policy.${unknown} is not a setting (allowed: ${[...FIELDS].join(", ")})`);
  const backoff = given.backoff ?? 2;
  if (typeof backoff !== "number" || !Number.isFinite(backoff) || backoff < 1 || backoff > 100) {
    throw new LockoutUsageError(`createLockout: policy.backoff must be a number from 1 to 100 (got ${JSON.stringify(given.backoff)})`);
  }
  const durationMs = milliseconds(given.durationMs, "durationMs", 15 * MINUTE);
  const maxDurationMs = milliseconds(given.maxDurationMs, "maxDurationMs", Math.max(24 * 60 * MINUTE, durationMs));
  if (maxDurationMs < durationMs) {
    throw new LockoutUsageError(`createLockout: policy.maxDurationMs (${maxDurationMs}) must be at least policy.durationMs (${durationMs})`);
  }
  const mfaAction = given.mfaAction ?? "lock";
  if (mfaAction !== "lock" && mfaAction !== "disable") {
    throw new LockoutUsageError(`createLockout: policy.mfaAction must be "lock" or "disable" (got ${JSON.stringify(mfaAction)})`);
  }
  const threshold = wholeNumber(given.threshold, "threshold", 0, 1000, 5);
  return Object.freeze({
    threshold,
    // The library's accounts have no roles: one threshold for all.
    adminThreshold: threshold,
    windowMs: milliseconds(given.windowMs, "windowMs", 15 * MINUTE),
    durationMs,
    backoff,
    maxDurationMs,
    disableAfter: wholeNumber(given.disableAfter, "disableAfter", 0, 1000, 0),
    mfaThreshold: wholeNumber(given.mfaThreshold, "mfaThreshold", 1, 1000, 5),
    mfaAction,
    slotTtlMs: SLOT_TTL_MS,
  });
}
