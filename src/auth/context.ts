import type { Policy } from "../lockout/index.ts";
import type { Database } from "../store/index.ts";
import type { OutboxSignal } from "../notify/signal.ts";
import type { Instance } from "./instance.ts";
import type { Hasher } from "./password.ts";
import type { PasswordSettings } from "./password-check.ts";

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

/** What the auth layer needs to queue security e-mails (SPEC "E-mail"). */
export interface NotifySettings {
  /** DEADBOLT_PUBLIC_URL: base of the links in e-mails. */
  readonly publicUrl: string;
  /** DEADBOLT_WARN_BEFORE_LOCK. */
  readonly warnBeforeLock: boolean;
  /** DEADBOLT_NOTIFY_MAX_PER_HOUR: security e-mails per user per hour; 0 = no limit. */
  readonly maxPerHour: number;
  /** DEADBOLT_RESET_MAX_PER_HOUR: requested reset mails per user per hour, a budget of their own; 0 = no limit. */
  readonly resetMaxPerHour: number;
  /** DEADBOLT_NOTIFY_NEW_DEVICE: mail the user when a sign-in comes from a device that was not trusted. */
  readonly newDevice: boolean;
  /** Woken after notices are committed, so this process's dispatcher sends them at once. */
  readonly signal: OutboxSignal;
  /**
   * `none` queues no security e-mail at all: the library's accounts are the app's own keys,
   * not addresses, and the app sends its own mail. Default `outbox`.
   */
  readonly delivery?: "outbox" | "none";
}

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
  /** AES-256-GCM key for TOTP secrets at rest. */
  readonly secretKey: Buffer;
  /** Issuer shown in authenticator apps. */
  readonly issuer: string;
  /** Lifetime of the token between a correct password and the second factor. */
  readonly mfaChallengeTtlMs: number;
  /** How long a surplus attempt waits for a verification slot before giving up. */
  readonly slotWaitMs: number;
  /** This process as the owner of the verification slots it reserves (heartbeat). */
  readonly instance: Instance;
  readonly notify: NotifySettings;
  /** DEADBOLT_DEVICE_TRUST: trusted devices with their own counters; false = plain per-account lockout. */
  readonly deviceTrust: boolean;
  /** The policy every new password goes through. */
  readonly passwords: PasswordSettings;
}

export interface Client {
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The OpenID Connect app the user is signing in to, if any (named in `login.succeeded`). */
  readonly app?: { readonly clientId: string; readonly name: string };
}
