import type { LightMyRequestResponse } from "fastify";
import { randomUUID } from "node:crypto";
import { insertUser, type UserRow } from "../../src/store/index.ts";
import { SESSION_COOKIE } from "../../src/http/session.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";

export const ADMIN_EMAIL = "root@example.com";
export const ADMIN_PASSWORD = "admin-password-1";
export const USER_PASSWORD = "a plain member of the crew";

/** A signed-in user: the Bearer token and the session cookie from `POST /api/auth/login`. */
export interface Session {
  readonly userId: string;
  readonly token: string;
  /** `deadbolt_session=…`, for a `cookie` header. */
  readonly cookie: string;
}

export async function signIn(t: TestApp, email: string, password: string): Promise<Session> {
  const response = await postLogin(t.app, email, password);
  if (response.statusCode !== 200) throw new Error(`login of ${email} failed: ${response.statusCode} ${response.body}`);
  const body = response.json<{ token: string; user: { id: string } }>();
  const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
  if (!cookie) throw new Error("login set no session cookie");
  return { userId: body.user.id, token: body.token, cookie: `${SESSION_COOKIE}=${cookie.value}` };
}

export function bearer(session: Session): Record<string, string> {
  return { authorization: `Bearer ${session.token}` };
}

export interface AdminFixture {
  readonly t: TestApp;
  readonly admin: Session;
}

/** A test app with one admin, signed in. */
export async function withAdmin(dialect: "sqlite" | "postgres", env: Record<string, string> = {}): Promise<AdminFixture> {
  const t = await createTestApp(dialect, { env });
  await t.createUser(ADMIN_EMAIL, ADMIN_PASSWORD, "admin");
  return { t, admin: await signIn(t, ADMIN_EMAIL, ADMIN_PASSWORD) };
}

/** GET as the session (Bearer). */
export function get(t: TestApp, session: Session | null, url: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "GET", url, headers: session ? bearer(session) : {} });
}

/** POST JSON as the session (Bearer). */
export function post(t: TestApp, session: Session | null, url: string, payload?: object): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "POST", url, headers: session ? bearer(session) : {}, ...(payload ? { payload } : {}) });
}

/** Failed logins from a given client address. */
export async function failLogins(t: TestApp, email: string, count: number, ip = "203.0.113.7"): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await t.app.inject({
      method: "POST", url: "/api/auth/login", payload: { email, password: "wrong-password" },
      remoteAddress: ip, headers: { "user-agent": "attack-tool/1.0" },
    });
    if (response.statusCode !== 401) throw new Error(`expected a failed login, got ${response.statusCode}`);
  }
}

/** Inserts users straight into the store (no argon2): for lists long enough to paginate. */
export async function insertUsers(t: TestApp, emails: readonly string[]): Promise<UserRow[]> {
  const rows: UserRow[] = [];
  for (const email of emails) {
    rows.push(await insertUser(t.auth.database.db, { id: randomUUID(), email, passwordHash: "not-a-hash", role: "user", now: t.clock.now() }));
  }
  return rows;
}

export function errorCode(response: LightMyRequestResponse): string {
  return response.json<{ error: string }>().error;
}
