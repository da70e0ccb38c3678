export type {
  AccountStatus, Decision, DisabledReason, Effect, Factor, FactorCounter, LockoutState, Policy,
  Reservation, Role, Slot, SlotClaim,
} from "./types.ts";
export type { FailureContext } from "./decide.ts";
export {
  attemptsRemaining, disable, enable, onFailure, onLoginCompleted, onVerified, reserve, settle,
  slotOwners, statusOf, unlock,
} from "./decide.ts";
export { lockDuration, thresholdFor } from "./policy.ts";
export { forgetSecondFactor } from "./second-factor.ts";
