/**
 * How the throttle treats one route: what counts against the client, how the route names the
 * user it acts on (to exempt that user's trusted devices), and how a 429 is answered.
 */
export interface ThrottleRule {
  /** `failures`: answers with one of `failureStatuses` count; `every`: each request counts (it may send a mail). */
  readonly counts: "failures" | "every";
  readonly failureStatuses: readonly number[];
  /** Where the target user is named: body/form `email`, a pending second-factor challenge, the session, or a mailed token. */
  readonly target: "email" | "mfa_challenge" | "session" | "reset_token" | "unlock_token";
  readonly answer: "json" | "page";
}

const LOGIN_FAILED = [401, 403, 423];
const REFUSED = [401];
const BAD_TOKEN = [400];

/**
 * Every pathway that checks a secret or sends a mail (SPEC "Per-client throttling"), by
 * `METHOD /route`. One table, so a pathway cannot be forgotten in a handler; a test checks
 * that each entry names a registered route.
 */
export const THROTTLED_ROUTES: Readonly<Record<string, ThrottleRule>> = Object.freeze({
  "POST /api/auth/login": { counts: "failures", failureStatuses: LOGIN_FAILED, target: "email", answer: "json" },
  "POST /api/auth/login/mfa": { counts: "failures", failureStatuses: LOGIN_FAILED, target: "mfa_challenge", answer: "json" },
  "POST /api/auth/password/change": { counts: "failures", failureStatuses: REFUSED, target: "session", answer: "json" },
  "DELETE /api/auth/mfa/totp": { counts: "failures", failureStatuses: REFUSED, target: "session", answer: "json" },
  "POST /api/auth/mfa/totp/confirm": { counts: "failures", failureStatuses: [400], target: "session", answer: "json" },
  "POST /api/auth/password/forgot": { counts: "every", failureStatuses: [], target: "email", answer: "json" },
  "POST /api/auth/password/reset": { counts: "failures", failureStatuses: BAD_TOKEN, target: "reset_token", answer: "json" },
  "POST /api/auth/unlock": { counts: "failures", failureStatuses: BAD_TOKEN, target: "unlock_token", answer: "json" },
  "POST /login": { counts: "failures", failureStatuses: LOGIN_FAILED, target: "email", answer: "page" },
  "POST /login/mfa": { counts: "failures", failureStatuses: LOGIN_FAILED, target: "mfa_challenge", answer: "page" },
  "POST /forgot": { counts: "every", failureStatuses: [], target: "email", answer: "page" },
  "GET /reset": { counts: "failures", failureStatuses: BAD_TOKEN, target: "reset_token", answer: "page" },
  "POST /reset": { counts: "failures", failureStatuses: BAD_TOKEN, target: "reset_token", answer: "page" },
  "GET /unlock": { counts: "failures", failureStatuses: BAD_TOKEN, target: "unlock_token", answer: "page" },
  "POST /unlock": { counts: "failures", failureStatuses: BAD_TOKEN, target: "unlock_token", answer: "page" },
  "POST /account/password": { counts: "failures", failureStatuses: REFUSED, target: "session", answer: "page" },
  "POST /account/mfa/disable": { counts: "failures", failureStatuses: REFUSED, target: "session", answer: "page" },
  "POST /account/mfa/confirm": { counts: "failures", failureStatuses: [400], target: "session", answer: "page" },
});
