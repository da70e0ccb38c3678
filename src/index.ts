/**
 * deadbolt's lockout for apps that keep their own users and password check: the package's
 * root export. It is the service's own engine (`lockout/`), store (`store/`) and guard
 * (`auth/guard.ts`), never a copy. See README "Use the lockout in your app".
 *
 * @example
 * import { createLockout } from "deadbolt";
 * const lockout = createLockout({ databaseUrl: "sqlite:./data/app.db" });
 *
 * @packageDocumentation
 */
export type {
  AttemptClient, AttemptOutcome, AttemptRequest, ForgetDevicesOptions, Lockout, LockoutEvent, LockoutEventQuery, LockoutLogger,
  LockoutOptions, LockoutPolicy, LockoutStatus, LockoutStorage, UnlockOptions,
} from "./library/index.ts";
export { createLockout, LockoutUsageError, QUANTUM_MS } from "./library/index.ts";
