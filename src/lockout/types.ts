export type Factor = "password" | "mfa";
export type Role = "user" | "admin";
export type AccountStatus = "active" | "locked" | "disabled";
/**
 * Which counter an attempt uses: `device` when it presents a device the user trusts (that
 * device's own counter), else `account` (the account's counter, whose lock stops untrusted clients).
 */
export type Lane = "device" | "account";
export type DisabledReason = "admin" | "mfa_failures" | "repeated_lockouts";

/**
 * A verification in flight. Its owner is the instance (process) verifying it: a slot whose
 * owner stopped heartbeating is reclaimed at once; `expiresAt` is only the last resort.
 */
export interface Slot {
  readonly id: string;
  readonly expiresAt: number;
  /** Instance id of the process holding it; absent on slots written before migration 004. */
  readonly owner?: string;
}

/** Who asks for a slot, and which slot owners the shell found dead (plain data, no I/O). */
export interface SlotClaim {
  /** The instance id of the process that will verify. */
  readonly owner: string;
  /** Instances whose heartbeat lapsed: their slots are dropped before counting. */
  readonly deadOwners: readonly string[];
  /** `device`: the second factor of a trusted device's sign-in, which a password lock does not stop. */
  readonly lane?: Lane;
}

export interface FactorCounter {
  readonly failures: number;
  readonly lastFailedAt: number | null;
  readonly slots: readonly Slot[];
}

/** Everything the engine needs to know about one account; times are epoch milliseconds. */
export interface LockoutState {
  readonly role: Role;
  readonly disabledReason: DisabledReason | null;
  readonly lockedUntil: number | null;
  readonly lockReason: Factor | null;
  /** Consecutive locks since the last successful login or unlock. */
  readonly lockoutCount: number;
  readonly password: FactorCounter;
  readonly mfa: FactorCounter;
}

export interface Policy {
  /** Failed passwords that lock a user; 0 = never lock. */
  readonly threshold: number;
  /** Failed passwords that lock an admin; 0 = never lock. */
  readonly adminThreshold: number;
  readonly windowMs: number;
  readonly durationMs: number;
  readonly backoff: number;
  readonly maxDurationMs: number;
  /** Consecutive locks that disable instead; 0 = never. */
  readonly disableAfter: number;
  readonly mfaThreshold: number;
  readonly mfaAction: "lock" | "disable";
  /** How long a reserved verification slot may be held before it is presumed lost. */
  readonly slotTtlMs: number;
}

/** What the shell must do besides storing the new state. */
export type Effect =
  | {
      readonly type: "locked";
      readonly factor: Factor;
      readonly failedAttempts: number;
      readonly lockedUntil: number;
      readonly lockoutCount: number;
      /** Set when policy would have disabled the last active admin. */
      readonly insteadOfDisable: boolean;
    }
  | {
      readonly type: "disabled";
      readonly factor: Factor;
      readonly reason: DisabledReason;
      readonly failedAttempts: number;
      readonly lockoutCount: number;
    }
  | { readonly type: "near_threshold"; readonly factor: Factor; readonly attemptsRemaining: number };

export interface Decision {
  readonly state: LockoutState;
  readonly effects: readonly Effect[];
}

export type Reservation =
  | { readonly kind: "refused"; readonly reason: "locked" | "disabled" }
  /** Every remaining attempt is already being verified: wait and ask again. */
  | { readonly kind: "wait" }
  /** The factor never locks: verify without a slot. */
  | { readonly kind: "unlimited" }
  | { readonly kind: "reserved"; readonly state: LockoutState; readonly attemptsRemaining: number };
