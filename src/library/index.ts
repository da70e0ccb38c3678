export type { AttemptClient, AttemptOutcome, AttemptRequest, Lockout, LockoutOptions, UnlockOptions } from "./lockout.ts";
export { createLockout } from "./lockout.ts";
export type { LockoutPolicy } from "./policy.ts";
export { LockoutUsageError } from "./policy.ts";
export type { LockoutStorage } from "./storage.ts";
export { QUANTUM_MS } from "./timing.ts";
export type { LockoutEvent, LockoutEventQuery, LockoutStatus } from "./views.ts";
