import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AuthMetrics } from "../auth/index.ts";

export interface Metrics extends AuthMetrics {
  readonly registry: Registry;
}

/** One registry per app, so several apps (tests, bench) in one process never collide. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "deadbolt_process_" });
  const logins = new Counter({
    name: "deadbolt_login_attempts_total",
    help: "Password login attempts by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const lockouts = new Counter({
    name: "deadbolt_lockouts_total",
    help: "Accounts locked or disabled by policy, by factor",
    labelNames: ["factor", "action"] as const,
    registers: [registry],
  });
  const verifications = new Counter({
    name: "deadbolt_password_verifications_total",
    help: "argon2 verifications: real ones against a stored hash, dummy ones that only equalise timing",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const slotWait = new Histogram({
    name: "deadbolt_verification_slot_wait_seconds",
    help: "Time an attempt waited for a verification slot",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    verification: (kind) => verifications.inc({ kind }),
    loginOutcome: (outcome) => logins.inc({ outcome }),
    lockout: (factor, action) => lockouts.inc({ factor, action }),
    slotWait: (seconds) => slotWait.observe(seconds),
  };
}
