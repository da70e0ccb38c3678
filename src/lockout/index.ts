export type {
  AccountStatus, Decision, DisabledReason, Effect, Factor, FactorCounter, LockoutState, Policy,
  Reservation, Role, Slot,
} from "./types.ts";
export type { FailureContext } from "./decide.ts";
export {
  attemptsRemaining, disable, enable, onFailure, onLoginCompleted, onVerified, reserve, settle,
  statusOf, unlock,
} from "./decide.ts";
export { lockDuration, thresholdFor } from "./policy.ts";
