import type { Policy } from "../lockout/index.ts";
import type { Database } from "../store/index.ts";
import type { Hasher } from "./password.ts";

/** The narrow logger the auth layer needs (pino satisfies it). */
export interface Logger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** Counters the auth layer reports; the HTTP layer backs them with prom-client. */
export interface AuthMetrics {
  verification(kind: "real" | "dummy"): void;
  loginOutcome(outcome: string): void;
  lockout(factor: string, action: "locked" | "disabled"): void;
  slotWait(seconds: number): void;
}

export const NO_METRICS: AuthMetrics = {
  verification() {},
  loginOutcome() {},
  lockout() {},
  slotWait() {},
};

export interface SessionPolicy {
  readonly idleMs: number;
  readonly absoluteMs: number;
}

/** Everything with a side effect is injected, so tests pass a fixed clock and real databases. */
export interface AuthContext {
  readonly database: Database;
  readonly policy: Policy;
  readonly sessions: SessionPolicy;
  readonly hasher: Hasher;
  readonly now: () => number;
  readonly randomBytes: (size: number) => Buffer;
  readonly log: Logger;
  readonly metrics: AuthMetrics;
  /** How long a surplus attempt waits for a verification slot before giving up. */
  readonly slotWaitMs: number;
}

export interface Client {
  readonly ip: string | null;
  readonly userAgent: string | null;
}
