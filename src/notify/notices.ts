import type { Effect } from "../lockout/index.ts";
import type { Notice, Recipient } from "../store/index.ts";

/** The account a notice is about. */
export interface NoticeSubject {
  readonly id: string;
  readonly email: string;
}

/** Where the attempt came from; shown to the user so they can tell whether it was them. */
export interface NoticeClient {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface EffectNoticeContext {
  readonly client: NoticeClient;
  readonly now: number;
  /** DEADBOLT_WARN_BEFORE_LOCK: mail the user at threshold − 1 failures. */
  readonly warnBeforeLock: boolean;
  /** Active admins other than the subject, when the subject is an admin; else empty. */
  readonly otherAdmins: readonly Recipient[];
}

function origin(context: { client: NoticeClient; now: number }): Record<string, unknown> {
  return { at: context.now, ip: context.client.ip, userAgent: context.client.userAgent };
}

function adminAlerts(subject: NoticeSubject, context: EffectNoticeContext, key: string, facts: Record<string, unknown>): Notice[] {
  return context.otherAdmins.map((admin) => ({
    kind: "admin_alert" as const,
    dedupeKey: `alert:${key}:${admin.id}`,
    userId: admin.id,
    to: admin.email,
    payload: { ...facts, subjectId: subject.id, subjectEmail: subject.email, ...origin(context) },
  }));
}

/**
 * The notices a failed attempt's effects cause: a lock notice once per lock episode (the
 * dedupe key is the lock's end), a disabled notice, an optional warning at threshold − 1,
 * and an alert to every other active admin when an admin account is locked or disabled.
 */
export function effectNotices(subject: NoticeSubject, effects: readonly Effect[], context: EffectNoticeContext): Notice[] {
  const notices: Notice[] = [];
  for (const effect of effects) {
    if (effect.type === "locked") {
      const facts = { action: "locked", factor: effect.factor, failedAttempts: effect.failedAttempts, lockedUntil: effect.lockedUntil };
      notices.push({
        kind: "lock_notice", dedupeKey: `lock:${subject.id}:${effect.lockedUntil}`, userId: subject.id, to: subject.email,
        payload: { ...facts, lockoutCount: effect.lockoutCount, ...origin(context) },
      });
      notices.push(...adminAlerts(subject, context, `lock:${subject.id}:${effect.lockedUntil}`, facts));
    } else if (effect.type === "disabled") {
      const facts = { action: "disabled", factor: effect.factor, reason: effect.reason, failedAttempts: effect.failedAttempts };
      notices.push({
        kind: "disabled_notice", dedupeKey: `disabled:${subject.id}:${context.now}`, userId: subject.id, to: subject.email,
        payload: { ...facts, lockoutCount: effect.lockoutCount, ...origin(context) },
      });
      notices.push(...adminAlerts(subject, context, `disabled:${subject.id}:${context.now}`, facts));
    } else if (context.warnBeforeLock) {
      notices.push({
        kind: "lock_warning", dedupeKey: `warn:${subject.id}:${effect.factor}:${context.now}`, userId: subject.id, to: subject.email,
        payload: { factor: effect.factor, attemptsRemaining: effect.attemptsRemaining, ...origin(context) },
      });
    }
  }
  return notices;
}

/**
 * Tells the user an administrator (console, API or CLI) unlocked or re-enabled the account.
 * `version` is the row version the change was decided on, so one change queues one notice.
 */
export function restoredNotice(
  subject: NoticeSubject,
  change: { action: "unlocked" | "enabled"; by: string; actorEmail: string | null; now: number; version: number },
): Notice {
  return {
    kind: "account_restored",
    dedupeKey: `restored:${subject.id}:${change.version}`,
    userId: subject.id,
    to: subject.email,
    payload: { action: change.action, by: change.by, actorEmail: change.actorEmail, at: change.now },
  };
}

/** A password-reset mail; the link's token is created by the dispatcher when it sends. */
export function resetNotice(subject: NoticeSubject, context: { client: NoticeClient; now: number }, nonce: string): Notice {
  return {
    kind: "password_reset",
    dedupeKey: `reset:${subject.id}:${nonce}`,
    userId: subject.id,
    to: subject.email,
    payload: origin(context),
  };
}

/** Who made a change the user is told about: the user, a mailed link, an admin, or the CLI. */
export interface ChangeActor {
  readonly by: "user" | "token" | "admin" | "cli";
  /** The acting admin's e-mail, when there is one. */
  readonly actorEmail?: string | null;
}

interface ChangeContext {
  readonly client: NoticeClient;
  readonly now: number;
  /** The row version the change was decided on: one change, one notice. */
  readonly version: number;
}

/** "Your password was changed" (by the user) or "… was reset" (mailed link, admin or CLI). */
export function passwordChangedNotice(subject: NoticeSubject, actor: ChangeActor, context: ChangeContext): Notice {
  return {
    kind: "password_changed",
    dedupeKey: `password:${subject.id}:${context.version}`,
    userId: subject.id,
    to: subject.email,
    payload: { action: actor.by === "user" ? "changed" : "reset", by: actor.by, actorEmail: actor.actorEmail ?? null, ...origin(context) },
  };
}

/** Two-step verification turned on or off (by the user or an admin), or new recovery codes made. */
export function mfaChangedNotice(
  subject: NoticeSubject, action: "on" | "off" | "recovery_codes", actor: ChangeActor, context: ChangeContext,
): Notice {
  return {
    kind: "mfa_changed",
    dedupeKey: `mfa:${subject.id}:${context.version}`,
    userId: subject.id,
    to: subject.email,
    payload: { action, by: actor.by, actorEmail: actor.actorEmail ?? null, ...origin(context) },
  };
}

/** A recovery code was spent to sign in; says how many are left. `nonce` makes each use its own notice. */
export function recoveryCodeNotice(
  subject: NoticeSubject, context: { client: NoticeClient; now: number; remaining: number }, nonce: string,
): Notice {
  return {
    kind: "recovery_code_used",
    dedupeKey: `recovery:${subject.id}:${nonce}`,
    userId: subject.id,
    to: subject.email,
    payload: { remaining: context.remaining, ...origin(context) },
  };
}

/** A sign-in from a device that was not trusted (DEADBOLT_NOTIFY_NEW_DEVICE). */
export function newDeviceNotice(subject: NoticeSubject, context: { client: NoticeClient; now: number }, nonce: string): Notice {
  return {
    kind: "new_device_sign_in",
    dedupeKey: `device:${subject.id}:${nonce}`,
    userId: subject.id,
    to: subject.email,
    payload: origin(context),
  };
}

/** The invitation of a user created without a password; the set-password link is made at send time. */
export function invitationNotice(
  subject: NoticeSubject, invite: { role: string; by: string; actorEmail: string | null; now: number },
): Notice {
  return {
    kind: "invitation",
    dedupeKey: `invite:${subject.id}:${invite.now}`,
    userId: subject.id,
    to: subject.email,
    payload: { role: invite.role, by: invite.by, actorEmail: invite.actorEmail, at: invite.now },
  };
}
