export { createLockout } from "./lockout.ts";
export { QUANTUM_MS } from "../auth/answer-timing.ts";
export type {
  AttemptClient, AttemptOutcome, AttemptRequest, ForgetDevicesOptions, Lockout, LockoutEvent, LockoutEventQuery, LockoutLogger,
  LockoutOptions, LockoutPolicy, LockoutStatus, LockoutStorage, UnlockOptions,
} from "./types.ts";
export { LockoutUsageError } from "./types.ts";
