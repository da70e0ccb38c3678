import type { NewToken, OutboxRow } from "../store/index.ts";
import { hashToken } from "../auth/sessions.ts";
import type { MailLinks } from "./render.ts";

/** A reset link works for one hour. */
export const RESET_TOKEN_TTL_MS = 3_600_000;
/** An invitation's set-password link works for 7 days (SPEC). */
export const INVITE_TOKEN_TTL_MS = 7 * 24 * 3_600_000;
/** An unlock link works until the lock ends, and never longer than a day. */
export const UNLOCK_TOKEN_MAX_TTL_MS = 24 * 3_600_000;
/** 256 bits, base64url: 43 characters. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** True when `token` has the shape of a token we issue (cheap check before any query). */
export function isTokenShaped(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

export interface IssuedLinks {
  readonly links: MailLinks;
  /** Rows to store before sending (hashes only). */
  readonly tokens: readonly NewToken[];
}

function wantsReset(row: OutboxRow, payload: Readonly<Record<string, unknown>>): boolean {
  if (row.kind === "password_reset" || row.kind === "lock_notice") return true;
  // Failed 2FA codes mean the password is known: the disabled notice says "change it".
  return row.kind === "disabled_notice" && payload.factor === "mfa";
}

/**
 * Creates the tokens a mail links to, at send time, so that no usable token ever sits in
 * the outbox. A lock notice whose lock already ended gets no unlock link.
 */
export function issueLinks(
  row: OutboxRow, payload: Readonly<Record<string, unknown>>,
  context: { now: number; publicUrl: string; randomBytes: (size: number) => Buffer },
): IssuedLinks {
  const { now, publicUrl } = context;
  if (row.user_id === null) return { links: { unlockUrl: null, resetUrl: null, setPasswordUrl: null }, tokens: [] };
  const userId = row.user_id;
  const tokens: NewToken[] = [];
  const issue = (kind: NewToken["kind"], expiresAt: number): string => {
    const raw = context.randomBytes(TOKEN_BYTES).toString("base64url");
    tokens.push({ tokenHash: hashToken(raw), kind, userId, now, expiresAt });
    return raw;
  };
  let unlockUrl: string | null = null;
  const lockedUntil = payload.lockedUntil;
  if (row.kind === "lock_notice" && typeof lockedUntil === "number" && lockedUntil > now) {
    unlockUrl = `${publicUrl}/unlock?token=${issue("unlock", Math.min(lockedUntil, now + UNLOCK_TOKEN_MAX_TTL_MS))}`;
  }
  const resetUrl = wantsReset(row, payload) ? `${publicUrl}/reset?token=${issue("reset", now + RESET_TOKEN_TTL_MS)}` : null;
  const setPasswordUrl = row.kind === "invitation"
    ? `${publicUrl}/set-password?token=${issue("invite", now + INVITE_TOKEN_TTL_MS)}`
    : null;
  return { links: { unlockUrl, resetUrl, setPasswordUrl }, tokens };
}
