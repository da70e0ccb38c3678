export type {
  AccountStatus, Decision, DisabledReason, Effect, Factor, FactorCounter, Lane, LockoutState, Policy,
  Reservation, Role, Slot, SlotClaim,
} from "./types.ts";
export type { FailureContext } from "./decide.ts";
export {
  attemptsRemaining, disable, enable, onFailure, onLoginCompleted, onVerified, reserve, settle,
  slotOwners, statusFor, statusOf, unlock,
} from "./decide.ts";
export type { DeviceDecision, DeviceEffect, DeviceReservation, DeviceState } from "./device.ts";
export {
  deviceAttemptsRemaining, deviceLocked, deviceSlotOwners, laneOf, onDeviceFailure, onDeviceLoginCompleted, onDeviceVerified,
  reserveOnDevice, settleDevice,
} from "./device.ts";
export { lockDuration, thresholdFor } from "./policy.ts";
export { forgetSecondFactor } from "./second-factor.ts";
