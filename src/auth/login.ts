import { findUserByEmail, normalizeEmail, upgradePasswordHash, type UserRow } from "../store/index.ts";
import type { AuthContext, Client } from "./context.ts";
import { findTrustedDevice, isDeviceTokenShaped, trustedForNotice } from "./devices.ts";
import type { Lane } from "./priority-gate.ts";
import { guardSecret } from "./guard.ts";
import { issueMfaChallenge } from "./mfa.ts";
import { needsUpgrade } from "./password.ts";
import { eventFor, recordEvents } from "./record.ts";
import { signInWrites } from "./sign-in-writes.ts";

/**
 * `throttled`: no verification slot of the account freed up in time (answered like a failure);
 * `busy`: the untrusted hashing queue is full (a flood), so the attempt was turned away before
 * anything was looked up, counted or verified (answered 429 with Retry-After).
 */
export type LoginFailureReason = "unknown_user" | "wrong_password" | "locked" | "disabled" | "throttled" | "busy";

export type LoginResult =
  /** `deviceToken`: the token this client keeps as a trusted device (null with DEADBOLT_DEVICE_TRUST=off). */
  | { readonly kind: "authenticated"; readonly user: UserRow; readonly token: string; readonly deviceToken: string | null }
  | { readonly kind: "mfa_required"; readonly user: UserRow; readonly mfaToken: string }
  | {
      readonly kind: "failed";
      readonly reason: LoginFailureReason;
      readonly user: UserRow | null;
      /** Only for the informative disclosure mode. */
      readonly attemptsRemaining: number | null;
    };

export interface LoginRequest {
  readonly email: string;
  readonly password: string;
  readonly client: Client;
  /** `trusted` when the attempt presents a device the user trusts: its verification goes ahead of untrusted ones. */
  readonly lane?: Lane;
  /**
   * Whether the attempt presented a device the user trusts. `false` mails a new-device notice
   * when the sign-in completes (DEADBOLT_NOTIFY_NEW_DEVICE). Left out, it is derived from
   * `deviceToken` when that is given (null included: the client presented none); with neither,
   * the caller knows nothing of devices and nothing is mailed.
   */
  readonly deviceTrusted?: boolean;
  /**
   * The device token the client presents (cookie `deadbolt_device` or `deviceToken`), or null
   * for none. Pathways that have devices (every HTTP sign-in) always pass it, null included.
   */
  readonly deviceToken?: string | null;
}

/** An imported bcrypt or argon2i hash becomes deadbolt's argon2id once the password is known. */
async function upgradeHash(ctx: AuthContext, user: UserRow, password: string): Promise<void> {
  if (!needsUpgrade(user.password_hash)) return;
  try {
    await upgradePasswordHash(ctx.database.db, user.id, user.password_hash, await ctx.hasher.hash(password));
  } catch (error) {
    // The login stands; the next one tries again.
    ctx.log.warn({ err: error, userId: user.id }, "could not upgrade an imported password hash");
  }
}

function admitsUntrusted(ctx: AuthContext): boolean {
  return ctx.hasher.admits?.("untrusted") ?? true;
}

function busy(ctx: AuthContext, user: UserRow | null): LoginResult {
  // No event: a flood would write one per request (the throttle's `client.throttled` summarises).
  ctx.metrics.loginOutcome("busy");
  return { kind: "failed", reason: "busy", user, attemptsRemaining: null };
}

/**
 * Password login through the guard. Unknown, wrong, locked and disabled all spend one
 * argon2 verification, so their cost is the same; the caller maps them to one answer.
 */
export async function login(ctx: AuthContext, request: LoginRequest): Promise<LoginResult> {
  const email = normalizeEmail(request.email);
  // While the untrusted hashing queue is full (a flood), an untrusted attempt is turned away
  // before it is counted or verified, and one that presents no device token before any
  // database work at all; whether the account exists plays no part, so the answer tells nothing.
  const presentsToken = ctx.deviceTrust && isDeviceTokenShaped(request.deviceToken);
  if (request.lane !== "trusted" && !presentsToken && !admitsUntrusted(ctx)) return busy(ctx, null);
  const user = await findUserByEmail(ctx.database.db, email);
  const device = user ? await findTrustedDevice(ctx, user.id, request.deviceToken) : null;
  // A device this user trusts gets the hashing lane ahead of untrusted attempts.
  const lane: Lane = request.lane ?? (device !== null ? "trusted" : "untrusted");
  if (lane === "untrusted" && presentsToken && !admitsUntrusted(ctx)) return busy(ctx, user ?? null);
  if (!user) {
    await ctx.hasher.dummyVerify(request.password);
    ctx.metrics.verification("dummy");
    await recordEvents(ctx, [eventFor("login.failed", { user: null, email }, request.client, ctx.now(),
      "login failed: no account with this e-mail", { reason: "unknown_user", factor: "password", via: "login", trustedDevice: false })]);
    ctx.metrics.loginOutcome("unknown_user");
    return { kind: "failed", reason: "unknown_user", user: null, attemptsRemaining: null };
  }
  const mfa = user.mfa_enabled === 1;
  const deviceTrusted = request.deviceTrusted ?? trustedForNotice(ctx, request.deviceToken, device);
  const writes = signInWrites(ctx, {
    client: request.client, deviceToken: request.deviceToken, notifyNewDevice: deviceTrusted === false && ctx.notify.newDevice,
  });
  const result = await guardSecret(ctx, {
    userId: user.id,
    user,
    device,
    factor: "password",
    verify: (row) => ctx.hasher.verify(row.password_hash, request.password, { lane }),
    lane,
    client: request.client,
    via: "login",
    onSuccess: mfa ? "release" : "complete_login",
    completion: mfa ? undefined : writes.within,
  });
  switch (result.kind) {
    case "verified":
      await upgradeHash(ctx, result.user, request.password);
      if (mfa) {
        ctx.metrics.loginOutcome("mfa_required");
        const mfaToken = await issueMfaChallenge(ctx, result.user, request.client, { deviceId: device?.id ?? null });
        return { kind: "mfa_required", user: result.user, mfaToken };
      }
      ctx.metrics.loginOutcome("succeeded");
      return { kind: "authenticated", user: result.user, ...writes.committed() };
    case "failed":
      ctx.metrics.loginOutcome("wrong_password");
      return { kind: "failed", reason: "wrong_password", user: result.user, attemptsRemaining: result.attemptsRemaining };
    case "refused":
      ctx.metrics.loginOutcome(result.reason);
      return { kind: "failed", reason: result.reason, user: result.user, attemptsRemaining: 0 };
    case "busy":
      ctx.metrics.loginOutcome("throttled");
      return { kind: "failed", reason: "throttled", user: result.user, attemptsRemaining: null };
  }
}
