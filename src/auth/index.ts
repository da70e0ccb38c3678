export type { AuthContext, AuthMetrics, Client, Logger, NotifySettings, SessionPolicy } from "./context.ts";
export { NO_METRICS } from "./context.ts";
export type { Actor, CreateUserError, DisableError, WeakPassword } from "./accounts.ts";
export {
  CLI_ACTOR, createUser, DISABLE_NOTE_MAX_LENGTH, disableUser, emergencyUnlock, enableUser, isValidEmail, resetPassword, unlockUser,
} from "./accounts.ts";
export type { AdminActor, DeleteUserError, InviteResult, RoleChangeError } from "./lifecycle.ts";
export { changeRole, deleteUser, inviteUser, resetMfa, sendResetLink } from "./lifecycle.ts";
export type { GuardRequest, GuardResult } from "./guard.ts";
export { guardSecret } from "./guard.ts";
export type { LoginFailureReason, LoginRequest, LoginResult } from "./login.ts";
export { login } from "./login.ts";
export type { Hasher, HashKind, VerifyOptions } from "./password.ts";
export type { Lane, PriorityGate } from "./priority-gate.ts";
export { createPriorityGate } from "./priority-gate.ts";
export { ARGON2_OPTIONS, createArgon2Hasher, hashingPlaces, hashKind, needsUpgrade } from "./password.ts";
export { HASHING_NICENESS, lowerHashingPriority } from "./hashing-priority.ts";
export type { PasswordPolicy, PasswordRule, PasswordVerdict, WordList } from "./password-policy.ts";
export { checkPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./password-policy.ts";
export type { PasswordOwner, PasswordSettings } from "./password-check.ts";
export { checkLocally, checkNewPassword } from "./password-check.ts";
export type { BreachCheck, BreachLookup, RangeFetch } from "./breached.ts";
export { createHibpClient } from "./breached.ts";
export type { ChangePasswordResult } from "./password-change.ts";
export { changePassword } from "./password-change.ts";
export type { Authenticated } from "./sessions.ts";
export { authenticate, createSession, endSession, hashToken } from "./sessions.ts";
export type { UserView } from "./user-view.ts";
export { toUserView, userView, userViews } from "./user-view.ts";
export type { DeviceActor, DeviceView } from "./devices.ts";
export {
  countDevices, findTrustedDevice, forgetDevice, forgetDevices, isDeviceTokenShaped, listDevices, presentsTrustedDevice,
  toDeviceView, trustClient,
} from "./devices.ts";
export { eventFor, recordEvents } from "./record.ts";
export type { ConfirmResult, DisableTotpResult, MfaLoginResult, RegenerateResult, TotpSetup } from "./mfa.ts";
export {
  completeMfaLogin, confirmTotp, disableTotp, issueMfaChallenge, pendingTotpSetup, RECOVERY_CODE_COUNT, recoveryCodesLeft, regenerateRecoveryCodes,
  startTotpSetup,
} from "./mfa.ts";
export { hotp, matchTotp, totpStep } from "./totp.ts";
export type { EventView } from "./event-view.ts";
export { toEventView } from "./event-view.ts";
export type { ImportCounts, ImportOptions, ImportResult } from "./import.ts";
export { importUsers } from "./import.ts";
export type { ImportedUser, ImportProblem, ParsedImport } from "./import-file.ts";
export { MAX_PROBLEMS_LISTED, parseImportFile } from "./import-file.ts";
