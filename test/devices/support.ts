import { randomBytes } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { hashToken } from "../../src/auth/index.ts";
import { findUserByEmail, insertTokens, type TokenKind } from "../../src/store/index.ts";
import type { TestApp } from "../support/app.ts";

export const PASSWORD = "correct horse battery staple";
export const WRONG = "not the password at all";
export const DEVICE_COOKIE = "deadbolt_device";

export interface LoginAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The deadbolt_device cookie the answer set, if any. */
  readonly cookie: { value: string; attributes: string } | null;
}

/** The Set-Cookie header for `name`, split into its value and attributes. */
export function setCookie(response: LightMyRequestResponse, name: string): { value: string; attributes: string } | null {
  const raw = response.headers["set-cookie"];
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const line = all.find((c) => c.startsWith(`${name}=`));
  if (line === undefined) return null;
  const [pair, ...rest] = line.split(";");
  return { value: pair!.slice(name.length + 1), attributes: rest.join(";").trim() };
}

/**
 * POST /api/auth/login as a browser holding `cookie` (or none) or as an API client sending
 * `deviceToken` in the body.
 */
export async function login(
  t: TestApp, email: string, password: string, device: { cookie?: string | null; deviceToken?: string } = {},
): Promise<LoginAnswer> {
  const payload: Record<string, string> = { email, password };
  if (device.deviceToken !== undefined) payload.deviceToken = device.deviceToken;
  const headers: Record<string, string> = device.cookie ? { cookie: `${DEVICE_COOKIE}=${device.cookie}` } : {};
  const response = await t.app.inject({ method: "POST", url: "/api/auth/login", payload, headers });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, cookie: setCookie(response, DEVICE_COOKIE) };
}

/** Signs in with the right password (asserting the 200) and returns the device token the browser keeps. */
export async function trustedBrowser(t: TestApp, email: string, password = PASSWORD): Promise<string> {
  const answer = await login(t, email, password);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.cookie).not.toBeNull();
  return answer.cookie!.value;
}

/** `n` wrong passwords from a client that presents no device (the attacker). */
export async function attack(t: TestApp, email: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) expect((await login(t, email, WRONG)).status).toBe(401);
}

/** A usable unlock or reset token for the user, as the mailed link would carry. */
export async function mailedToken(t: TestApp, email: string, kind: TokenKind): Promise<string> {
  const user = await findUserByEmail(t.auth.database.db, email);
  if (!user) throw new Error(`no user ${email}`);
  const token = randomBytes(32).toString("base64url");
  const now = t.clock.now();
  await insertTokens(t.auth.database.db, [{ tokenHash: hashToken(token), kind, userId: user.id, now, expiresAt: now + 3_600_000 }]);
  return token;
}
