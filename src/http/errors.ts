import type { FastifyReply } from "fastify";

/** Every error code the API answers with, its status and default message: one registry. */
export const ERRORS = {
  invalid_request: { status: 400, message: "The request is malformed." },
  weak_password: { status: 400, message: "The new password is not acceptable." },
  invalid_code: { status: 400, message: "The code is not valid. Check the time on your device and try again." },
  invalid_token: { status: 400, message: "The link or token is invalid or has expired." },
  invalid_import: { status: 400, message: "The import file has invalid lines; nothing was imported." },
  invalid_credentials: { status: 401, message: "" }, // the configurable generic login message
  unauthenticated: { status: 401, message: "Sign in first." },
  account_disabled: { status: 403, message: "The account is disabled. Contact an administrator." },
  forbidden: { status: 403, message: "You are not allowed to do this." },
  not_found: { status: 404, message: "Not found." },
  email_taken: { status: 409, message: "A user with this e-mail already exists." },
  mfa_already_enabled: { status: 409, message: "Two-factor authentication is already enabled." },
  last_admin: { status: 409, message: "This is the last active admin; it cannot be disabled, demoted or deleted. Make another admin first." },
  cannot_disable_self: { status: 409, message: "An admin cannot disable their own account." },
  cannot_delete_self: { status: 409, message: "An admin cannot delete their own account; ask another admin." },
  cannot_change_own_role: { status: 409, message: "An admin cannot change their own role; ask another admin." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  unsupported_media_type: { status: 415, message: "Send JSON (application/json) or a form." },
  account_locked: { status: 423, message: "The account is temporarily locked." },
  too_many_requests: { status: 429, message: "Too many attempts from this address. Try again later." },
  internal_error: { status: 500, message: "Something went wrong on our side." },
  service_unavailable: { status: 503, message: "The service is temporarily unavailable. Try again shortly." },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  readonly error: ErrorCode;
  readonly message: string;
  readonly [extra: string]: unknown;
}

export function errorBody(code: ErrorCode, message?: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { error: code, message: message ?? ERRORS[code].message, ...extra };
}

export function sendError(
  reply: FastifyReply, code: ErrorCode, message?: string, extra: Record<string, unknown> = {},
): FastifyReply {
  return reply.code(ERRORS[code].status).send(errorBody(code, message, extra));
}

/** The classifier lives with the store (the dispatcher uses it too); the HTTP layer maps it to 503. */
export { isDatabaseUnavailable } from "../store/unavailable.ts";
