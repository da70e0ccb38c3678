/** Shared helpers for the second-factor suites: enrolment, code arithmetic, logins, events. */
import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { hotp, toUserView, totpStep, type UserView } from "../../src/auth/index.ts";
import { countUserDevices, findUserByEmail, listEvents, type StoredEvent, type UserRow } from "../../src/store/index.ts";
import { postLogin, type TestApp } from "../support/app.ts";
import { base32Decode } from "../support/base32.ts";

export const STEP_MS = 30_000;
export const MINUTE = 60_000;
export const PASSWORD = "correct horse battery";
export const WRONG_PASSWORD = "not the password at all";
export const NO_CLIENT = { ip: null, userAgent: null } as const;

export { base32Decode };

/** The 6-digit code an authenticator shows `offsetSteps` steps from the test clock's now. */
export function codeAt(t: TestApp, secret: Buffer, offsetSteps = 0): string {
  return hotp(secret, totpStep(t.clock.now()) + offsetSteps);
}

/** A 6-digit code that is valid for none of the accepted steps (now-1 … now+1). */
export function wrongCode(t: TestApp, secret: Buffer): string {
  const valid = new Set([-1, 0, 1].map((offset) => codeAt(t, secret, offset)));
  for (let n = 0; ; n++) {
    const candidate = String((123_456 + n * 7_919) % 1_000_000).padStart(6, "0");
    if (!valid.has(candidate)) return candidate;
  }
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Password login of a user without 2FA; returns the session token. */
export async function signIn(t: TestApp, email: string, password = PASSWORD): Promise<string> {
  const response = await postLogin(t.app, email, password);
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json() as { status: string; token: string };
  expect(body.status).toBe("authenticated");
  return body.token;
}

export interface Enrolled {
  readonly user: UserRow;
  readonly email: string;
  readonly secret: Buffer;
  readonly base32: string;
  /** A session from before enrolment. */
  readonly session: string;
  readonly recoveryCodes: string[];
}

/**
 * Creates a user, enrols TOTP through the HTTP API, then moves the clock one step on, so
 * the next code is not a replay of the confirmation code.
 */
export async function enroll(t: TestApp, email: string, role: "user" | "admin" = "user"): Promise<Enrolled> {
  const user = await t.createUser(email, PASSWORD, role);
  const session = await signIn(t, email);
  const setup = await t.app.inject({ method: "POST", url: "/api/auth/mfa/totp/setup", headers: bearer(session) });
  expect(setup.statusCode, setup.body).toBe(200);
  const base32 = (setup.json() as { secret: string }).secret;
  const secret = base32Decode(base32);
  const confirm = await t.app.inject({
    method: "POST", url: "/api/auth/mfa/totp/confirm", headers: bearer(session), payload: { code: codeAt(t, secret) },
  });
  expect(confirm.statusCode, confirm.body).toBe(200);
  t.clock.advance(STEP_MS);
  return { user, email, secret, base32, session, recoveryCodes: (confirm.json() as { recoveryCodes: string[] }).recoveryCodes };
}

/** The first step: the right password of an enrolled user; returns the mfaToken. */
export async function passwordStep(t: TestApp, email: string, password = PASSWORD): Promise<string> {
  const response = await postLogin(t.app, email, password);
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json() as { status: string; mfaToken: string };
  expect(body.status).toBe("mfa_required");
  return body.mfaToken;
}

export function postMfa(t: TestApp, mfaToken: string, code: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "POST", url: "/api/auth/login/mfa", payload: { mfaToken, code } });
}

export function me(t: TestApp, token: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "GET", url: "/api/auth/me", headers: bearer(token) });
}

/** SPEC's "U" at the test clock's now. */
export async function viewOf(t: TestApp, email: string): Promise<UserView> {
  const row = await findUserByEmail(t.auth.database.db, email);
  if (!row) throw new Error(`no user ${email}`);
  return toUserView(row, t.auth.policy, t.clock.now(), (await countUserDevices(t.auth.database.db, [row.id])).get(row.id) ?? 0);
}

/** Stored events of one address, oldest first. */
export function eventsOf(t: TestApp, email: string, type?: string): Promise<StoredEvent[]> {
  return listEvents(t.auth.database.db, { order: "oldest", email, ...(type === undefined ? {} : { type }) });
}

/** The generic 401 every failed login answers with, body and headers but Date. */
export function expectGeneric401(response: LightMyRequestResponse, reference: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBe(401);
  expect(response.body).toBe(reference.body);
  const strip = (r: LightMyRequestResponse) => {
    const { date: _date, ...rest } = r.headers;
    return rest;
  };
  expect(strip(response)).toEqual(strip(reference));
}

/** A failed password login, the reference every other failure must equal (unknown address by default: no counter moves). */
export async function failedLoginAnswer(t: TestApp, email = "nobody@example.com", password = WRONG_PASSWORD): Promise<LightMyRequestResponse> {
  const response = await postLogin(t.app, email, password);
  expect(response.statusCode).toBe(401);
  expect((response.json() as { error: string }).error).toBe("invalid_credentials");
  return response;
}
