import type { Effect, Factor } from "../lockout/index.ts";
import { isoTime } from "../time.ts";

/** 2026-11-22T15:04:05Z: second precision reads better in messages. */
export function isoSeconds(ms: number): string {
  return isoTime(ms).replace(/\.\d{3}Z$/, "Z");
}

function factorWords(factor: Factor): string {
  return factor === "mfa" ? "2FA" : "password";
}

export function lockedMessage(effect: Extract<Effect, { type: "locked" }>): string {
  const base = `account locked until ${isoSeconds(effect.lockedUntil)} after ${effect.failedAttempts} ` +
    `failed ${factorWords(effect.factor)} attempts`;
  return effect.insteadOfDisable
    ? `${base} (policy would disable it, but it is the last active admin)`
    : base;
}

export function disabledMessage(effect: Extract<Effect, { type: "disabled" }>): string {
  if (effect.reason === "repeated_lockouts") {
    return `account disabled after ${effect.lockoutCount} consecutive lockouts ` +
      `(${effect.failedAttempts} failed ${factorWords(effect.factor)} attempts)`;
  }
  return `account disabled after ${effect.failedAttempts} failed ${factorWords(effect.factor)} attempts`;
}

export function failedMessage(factor: Factor, failures: number, threshold: number): string {
  const what = factor === "mfa" ? "wrong 2FA code" : "wrong password";
  return threshold > 0 ? `${what} (${failures} of ${threshold} failed attempts)` : `${what} (${failures} failed attempts)`;
}

export function refusedMessage(reason: "locked" | "disabled", detail: string): string {
  return reason === "locked"
    ? `login refused: account is locked until ${detail}`
    : `login refused: account is disabled (${detail})`;
}
