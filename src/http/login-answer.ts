import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyReply } from "fastify";
import type { LoginResult } from "../auth/index.ts";
import type { Config } from "../config.ts";
import { sendError } from "./errors.ts";
import { isoTime } from "../time.ts";

/**
 * Failed logins are answered on a fixed grid of QUANTUM_MS after the request arrived, so
 * unknown, wrong, locked and disabled take the same time even though their database work
 * differs by a few hundred microseconds.
 */
export const FAILURE_QUANTUM_MS = 50;

export async function padFailure(startedAt: number): Promise<void> {
  const elapsed = performance.now() - startedAt;
  const target = Math.max(1, Math.ceil(elapsed / FAILURE_QUANTUM_MS)) * FAILURE_QUANTUM_MS;
  await sleep(target - elapsed);
}

type Failure = Extract<LoginResult, { kind: "failed" }>;

/** What a login turned away by a full untrusted hashing queue is told (429, never counted). */
export const BUSY_MESSAGE = "Too many sign-in attempts are being checked right now. Try again in a moment.";
/** Seconds a busy answer asks the client to wait: the queue drains in well under that. */
export const BUSY_RETRY_AFTER_S = 1;

/** Failures answered on the timing grid; a busy refusal is not (it depends on no account, so it tells nothing). */
export function isPadded(failure: Pick<Failure, "reason">): boolean {
  return failure.reason !== "busy";
}

/** One answer for every failure, unless the operator chose informative disclosure. */
export async function sendLoginFailure(reply: FastifyReply, config: Config, failure: Failure): Promise<FastifyReply> {
  if (failure.reason === "busy") {
    reply.header("retry-after", String(BUSY_RETRY_AFTER_S));
    return sendError(reply, "too_many_requests", BUSY_MESSAGE);
  }
  if (config.disclosure === "informative") {
    const user = failure.user;
    if (failure.reason === "locked" && user?.locked_until != null) {
      return sendError(reply, "account_locked", undefined, { lockedUntil: isoTime(user.locked_until) });
    }
    if (failure.reason === "disabled") return sendError(reply, "account_disabled");
    return sendError(reply, "invalid_credentials", config.loginFailureMessage,
      failure.reason === "wrong_password" ? { attemptsRemaining: failure.attemptsRemaining } : {});
  }
  return sendError(reply, "invalid_credentials", config.loginFailureMessage);
}
