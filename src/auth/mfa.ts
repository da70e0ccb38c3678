import { createHash } from "node:crypto";
import * as OTPAuth from "otpauth";
import {
  consumeChallenge, consumeTotpStep, countUnusedRecoveryCodes, findChallenge, findDevice, findUserById, insertChallenge, replaceRecoveryCodes,
  useRecoveryCode, type UserRow,
} from "../store/index.ts";
import { mfaChangedNotice, newDeviceNotice, recoveryCodeNotice } from "../notify/notices.ts";
import { mutateAccount, queueNotices } from "./apply.ts";
import type { AuthContext, Client } from "./context.ts";
import { trustClient, trustedForNotice } from "./devices.ts";
import { guardSecret } from "./guard.ts";
import { eventFor } from "./record.ts";
import { open, seal } from "./secret-box.ts";
import { createSession, hashToken } from "./sessions.ts";
import { matchTotp, TOTP_DIGITS, TOTP_PERIOD_SECONDS } from "./totp.ts";

export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

export interface TotpSetup {
  readonly secret: string;
  readonly otpauthUrl: string;
  readonly qrSvg: string;
}

/** Recovery codes are high-entropy, so a plain SHA-256 is a sufficient one-way store. */
function recoveryHash(code: string): string {
  return createHash("sha256").update(code.toLowerCase().replace(/[^a-z0-9]/g, "")).digest("hex");
}

function newRecoveryCode(ctx: AuthContext): string {
  const bytes = ctx.randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join("");
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** The secret as an authenticator takes it: otpauth:// URL (issuer = DEADBOLT_APP_NAME) and its QR code. */
async function describeSecret(ctx: AuthContext, user: UserRow, secret: OTPAuth.Secret): Promise<TotpSetup> {
  const totp = new OTPAuth.TOTP({
    issuer: ctx.issuer, label: user.email, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret,
  });
  const otpauthUrl = totp.toString();
  // qrcode (and pngjs, 57 modules) only when someone enrols.
  const { default: QRCode } = await import("qrcode");
  const qrSvg = await QRCode.toString(otpauthUrl, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  return { secret: secret.base32, otpauthUrl, qrSvg };
}

/** Starts enrollment: a new secret waits, encrypted, for its first valid code. */
export async function startTotpSetup(ctx: AuthContext, user: UserRow): Promise<TotpSetup | "already_enabled"> {
  if (user.mfa_enabled === 1) return "already_enabled";
  const secret = new OTPAuth.Secret({ buffer: new Uint8Array(ctx.randomBytes(20)).buffer });
  await ctx.database.db.updateTable("users")
    .set({ totp_pending_secret: seal(ctx.secretKey, Buffer.from(secret.bytes), user.id) })
    .where("id", "=", user.id).execute();
  return describeSecret(ctx, user, secret);
}

/**
 * The enrollment still waiting for its first code, shown again after a wrong one: the entry
 * the user already added to the authenticator must keep working, so the secret stays the same.
 */
export async function pendingTotpSetup(ctx: AuthContext, user: UserRow): Promise<TotpSetup | null> {
  if (user.mfa_enabled === 1 || user.totp_pending_secret === null) return null;
  const bytes = open(ctx.secretKey, user.totp_pending_secret, user.id);
  return describeSecret(ctx, user, new OTPAuth.Secret({ buffer: new Uint8Array(bytes).buffer }));
}

export type ConfirmResult = { readonly recoveryCodes: readonly string[] } | "no_pending_setup" | "invalid_code" | "already_enabled";

/** Enables TOTP once a code from the pending secret is valid; returns recovery codes, shown once. */
export async function confirmTotp(ctx: AuthContext, user: UserRow, code: string, client: Client): Promise<ConfirmResult> {
  if (user.mfa_enabled === 1) return "already_enabled";
  if (user.totp_pending_secret === null) return "no_pending_setup";
  const secret = open(ctx.secretKey, user.totp_pending_secret, user.id);
  const step = matchTotp(secret, code, ctx.now(), null);
  if (step === null) return "invalid_code";
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode(ctx));
  const now = ctx.now();
  const result = await mutateAccount<"invalid_code">(ctx, user.id, (row, state) => {
    if (row.totp_pending_secret !== user.totp_pending_secret) return "invalid_code";
    return {
      state,
      extra: { totp_secret: row.totp_pending_secret, totp_pending_secret: null, totp_last_step: step, mfa_enabled: 1 },
      events: [eventFor("mfa.enabled", { user: row }, client, now, "two-factor authentication (TOTP) enabled", { method: "totp" })],
      notices: [mfaChangedNotice(row, "on", { by: "user" }, { client, now, version: row.version })],
    };
  });
  if (!result.ok) return "invalid_code";
  await replaceRecoveryCodes(ctx.database.db, user.id, codes.map(recoveryHash), now);
  return { recoveryCodes: codes };
}

export type DisableTotpResult = "disabled" | "refused" | "not_enabled";

/** Turns TOTP off; needs the password, and a wrong one counts as a failed password attempt. */
export async function disableTotp(ctx: AuthContext, user: UserRow, password: string, client: Client): Promise<DisableTotpResult> {
  if (user.mfa_enabled !== 1) return "not_enabled";
  const checked = await guardSecret(ctx, {
    userId: user.id, factor: "password", client, via: "mfa_disable", onSuccess: "release", lane: "trusted",
    verify: (row) => ctx.hasher.verify(row.password_hash, password, { lane: "trusted" }),
  });
  if (checked.kind !== "verified") return "refused";
  const result = await mutateAccount<never>(ctx, user.id, (row, state, now) => ({
    state,
    extra: { totp_secret: null, totp_pending_secret: null, totp_last_step: null, mfa_enabled: 0 },
    events: [eventFor("mfa.disabled", { user: row }, client, now, "two-factor authentication (TOTP) disabled by the user", { method: "totp" })],
    notices: [mfaChangedNotice(row, "off", { by: "user" }, { client, now, version: row.version })],
  }));
  if (!result.ok) return "refused";
  await replaceRecoveryCodes(ctx.database.db, user.id, [], ctx.now());
  return "disabled";
}

export type RegenerateResult = { readonly recoveryCodes: readonly string[] } | "refused" | "not_enabled";

/**
 * New recovery codes for a user whose codes ran low or leaked; every old one stops working.
 * Needs the password, and a wrong one counts as a failed password attempt (as turning 2FA off).
 */
export async function regenerateRecoveryCodes(ctx: AuthContext, user: UserRow, password: string, client: Client): Promise<RegenerateResult> {
  if (user.mfa_enabled !== 1) return "not_enabled";
  const checked = await guardSecret(ctx, {
    userId: user.id, factor: "password", client, via: "recovery_codes", onSuccess: "release", lane: "trusted",
    verify: (row) => ctx.hasher.verify(row.password_hash, password, { lane: "trusted" }),
  });
  if (checked.kind !== "verified") return "refused";
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode(ctx));
  // Audited and mailed: whoever holds the password could otherwise mint a way past the second factor unseen.
  const result = await mutateAccount<"not_enabled">(ctx, user.id, (row, state, now) => {
    if (row.mfa_enabled !== 1) return "not_enabled";
    return {
      state,
      events: [eventFor("mfa.recovery_codes_replaced", { user: row }, client, now,
        `${RECOVERY_CODE_COUNT} new recovery codes made by the user; the old ones no longer work`, { count: RECOVERY_CODE_COUNT })],
      notices: [mfaChangedNotice(row, "recovery_codes", { by: "user" }, { client, now, version: row.version })],
    };
  });
  if (!result.ok) return "not_enabled";
  await replaceRecoveryCodes(ctx.database.db, user.id, codes.map(recoveryHash), ctx.now());
  return { recoveryCodes: codes };
}

/** How many recovery codes the user has left (shown on /account). */
export function recoveryCodesLeft(ctx: AuthContext, userId: string): Promise<number> {
  return countUnusedRecoveryCodes(ctx.database.db, userId);
}

/** After a correct password: a short-lived, single-use token bound to the user. */
export async function issueMfaChallenge(
  ctx: AuthContext, user: UserRow, client: Client, options: { deviceId?: string | null } = {},
): Promise<string> {
  const token = ctx.randomBytes(32).toString("base64url");
  const now = ctx.now();
  await insertChallenge(ctx.database.db, {
    tokenHash: hashToken(token), userId: user.id, now, expiresAt: now + ctx.mfaChallengeTtlMs, ip: client.ip,
    deviceId: options.deviceId ?? null,
  });
  return token;
}

async function checkCode(ctx: AuthContext, row: UserRow, code: string): Promise<"totp" | "recovery_code" | null> {
  const normalized = code.replace(/\s+/g, "");
  if (/^\d{6}$/.test(normalized)) {
    if (row.totp_secret === null) return null;
    const step = matchTotp(open(ctx.secretKey, row.totp_secret, row.id), normalized, ctx.now(), row.totp_last_step);
    return step !== null && (await consumeTotpStep(ctx.database.db, row.id, step)) ? "totp" : null;
  }
  return (await useRecoveryCode(ctx.database.db, row.id, recoveryHash(normalized), ctx.now())) ? "recovery_code" : null;
}

/** After a completed second-factor login: a recovery code's notice, and a new device's. */
async function signInNotices(ctx: AuthContext, user: UserRow, client: Client, used: "totp" | "recovery_code" | null, deviceTrusted: boolean | undefined): Promise<void> {
  const now = ctx.now();
  const nonce = () => ctx.randomBytes(9).toString("base64url");
  const notices = [];
  if (used === "recovery_code") {
    const remaining = await countUnusedRecoveryCodes(ctx.database.db, user.id);
    notices.push(recoveryCodeNotice(user, { client, now, remaining }, nonce()));
  }
  if (deviceTrusted === false && ctx.notify.newDevice) notices.push(newDeviceNotice(user, { client, now }, nonce()));
  await queueNotices(ctx, notices);
}

export type MfaLoginResult =
  | { readonly kind: "authenticated"; readonly user: UserRow; readonly token: string; readonly deviceToken: string | null }
  | { readonly kind: "failed"; readonly reason: "invalid_token" | "mfa_invalid" | "locked" | "disabled" | "throttled"; readonly user: UserRow | null };

/**
 * Completes a login with a TOTP or recovery code. Wrong codes count on the second factor's own
 * counter through the same guard as passwords; a lock or disable invalidates the token.
 */
export async function completeMfaLogin(
  ctx: AuthContext,
  input: {
    mfaToken: string; code: string; client: Client;
    /**
     * Whether the client presented a device the user trusts; `false` mails a new-device notice.
     * Left out, it is derived (when `deviceToken` is given, null included) from the device the
     * password step presented, which the challenge remembers.
     */
    deviceTrusted?: boolean;
    /** The device token the client presents (cookie or body, null for none), trusted once the sign-in completes. */
    deviceToken?: string | null;
  },
): Promise<MfaLoginResult> {
  const tokenHash = hashToken(input.mfaToken);
  const challenge = await findChallenge(ctx.database.db, tokenHash, ctx.now());
  const user = challenge === null ? undefined : await findUserById(ctx.database.db, challenge.userId);
  if (!user || challenge === null) return { kind: "failed", reason: "invalid_token", user: null };
  // The lane is the one the password came through: the challenge remembers its trusted device.
  const found = challenge.deviceId === null || !ctx.deviceTrust ? undefined : await findDevice(ctx.database.db, challenge.deviceId);
  const device = found && found.user_id === user.id ? found : null;
  const deviceTrusted = input.deviceTrusted ?? trustedForNotice(ctx, input.deviceToken, device);
  let used: "totp" | "recovery_code" | null = null;
  const result = await guardSecret(ctx, {
    userId: user.id, factor: "mfa", client: input.client, via: "mfa", onSuccess: "complete_login",
    device,
    // The challenge is spent only by a correct code, so a typo does not force a new password entry.
    verify: async (row) => {
      used = await checkCode(ctx, row, input.code);
      return used !== null && (await consumeChallenge(ctx.database.db, tokenHash, ctx.now()));
    },
  });
  switch (result.kind) {
    case "verified":
      await signInNotices(ctx, result.user, input.client, used, deviceTrusted);
      return {
        kind: "authenticated", user: result.user, token: await createSession(ctx, result.user, input.client),
        deviceToken: await trustClient(ctx, result.user, { token: input.deviceToken, client: input.client, via: "login" }),
      };
    case "failed":
      return { kind: "failed", reason: "mfa_invalid", user: result.user };
    case "refused":
      return { kind: "failed", reason: result.reason, user: result.user };
    case "busy":
      return { kind: "failed", reason: "throttled", user: result.user };
  }
}

