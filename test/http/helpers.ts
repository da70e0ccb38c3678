import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { toUserView, type UserView } from "../../src/auth/index.ts";
import { countUserDevices, findUserByEmail, listEvents, type StoredEvent } from "../../src/store/index.ts";
import type { TestApp } from "../support/app.ts";

/** SPEC's default generic message, spelled out here so a change to the constant is caught. */
export const SPEC_FAILURE_MESSAGE =
  "Incorrect e-mail or password, or the account is temporarily locked. Check your e-mail for instructions, or reset your password.";

export const MINUTE = 60_000;

/** Every stored event, oldest first. */
export function events(t: TestApp, filter: { type?: string; email?: string } = {}): Promise<StoredEvent[]> {
  return listEvents(t.auth.database.db, { order: "oldest", ...filter });
}

/** `type:reason` of every event of one e-mail address, oldest first (mail delivery left out). */
export async function eventTrail(t: TestApp, email: string): Promise<string[]> {
  return (await events(t, { email }))
    .filter((e) => !e.type.startsWith("notification."))
    .map((e) => (e.details.reason === undefined ? e.type : `${e.type}:${String(e.details.reason)}`));
}

/** The user as the admin API shows it (SPEC's U), at the test clock's now. */
export async function viewOf(t: TestApp, email: string): Promise<UserView> {
  const row = await findUserByEmail(t.auth.database.db, email);
  if (!row) throw new Error(`no user ${email}`);
  return toUserView(row, t.auth.policy, t.clock.now(), (await countUserDevices(t.auth.database.db, [row.id])).get(row.id) ?? 0);
}

/** Logs in with the right password and returns the session token (asserting the 200). */
export async function signIn(t: TestApp, email: string, password: string): Promise<string> {
  const response = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password } });
  expect(response.statusCode, response.body).toBe(200);
  const token = (response.json() as { token: string }).token;
  expect(typeof token).toBe("string");
  return token;
}

/** GET /api/auth/me with a bearer token. */
export function me(t: TestApp, token: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${token}` } });
}

/** The value of one sample of a Prometheus text exposition, or 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(",");
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "").split(",").filter((p) => p !== "").sort().join(",");
    if (have === wanted) return Number(match[3]);
  }
  return 0;
}

export async function scrape(t: TestApp): Promise<string> {
  const response = await t.management.inject({ method: "GET", url: "/metrics" });
  expect(response.statusCode).toBe(200);
  return response.body;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Fisher–Yates with Math.random: the order only has to be unpredictable to the server. */
export function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** Every header but `date`, for byte-for-byte comparison of two answers. */
export function headersWithoutDate(response: LightMyRequestResponse): Record<string, unknown> {
  const { date: _date, ...rest } = response.headers;
  return rest;
}
