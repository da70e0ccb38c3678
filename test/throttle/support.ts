import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { THROTTLED_ROUTES } from "../../src/http/throttle-rules.ts";
import type { TestApp } from "../support/app.ts";

/** A fresh private address per call, so shared Redis keys never meet another test's. */
export function freshIp(): string {
  const n = Math.floor(Math.random() * 2 ** 24);
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

const form = (fields: Record<string, string>): Pick<InjectOptions, "payload" | "headers"> => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

const TOKEN = "t".repeat(43);

/** A plausible request for every throttled route (its secret wrong, or right: it must not matter). */
export function pathwayRequest(route: string, session: string): InjectOptions {
  const bearer = { authorization: `Bearer ${session}` };
  const requests: Record<string, InjectOptions> = {
    "POST /api/auth/login": { payload: { email: "ann@example.com", password: "right-password" } },
    "POST /api/auth/login/mfa": { payload: { mfaToken: TOKEN, code: "123456" } },
    "POST /api/auth/password/change": { payload: { currentPassword: "right-password", newPassword: "a brand new passphrase" }, headers: bearer },
    "DELETE /api/auth/mfa/totp": { payload: { password: "right-password" }, headers: bearer },
    "POST /api/auth/mfa/totp/confirm": { payload: { code: "123456" }, headers: bearer },
    "POST /api/auth/password/forgot": { payload: { email: "ann@example.com" } },
    "POST /api/auth/password/reset": { payload: { token: TOKEN, password: "a brand new passphrase" } },
    "POST /api/auth/unlock": { payload: { token: TOKEN } },
    "POST /login": form({ email: "ann@example.com", password: "right-password" }),
    "POST /login/mfa": { ...form({ code: "123456" }), cookies: { deadbolt_mfa: TOKEN } },
    "POST /forgot": form({ email: "ann@example.com" }),
    "GET /reset": { query: { token: TOKEN } },
    "POST /reset": form({ token: TOKEN, password: "a brand new passphrase", confirm: "a brand new passphrase" }),
    "GET /unlock": { query: { token: TOKEN } },
    "POST /unlock": form({ token: TOKEN }),
    "POST /account/password": { ...form({ currentPassword: "right-password", newPassword: "a brand new passphrase", confirmPassword: "a brand new passphrase" }), cookies: { deadbolt_session: session } },
    "POST /account/mfa/disable": { ...form({ password: "right-password" }), cookies: { deadbolt_session: session } },
    "POST /account/mfa/confirm": { ...form({ code: "123456" }), cookies: { deadbolt_session: session } },
  };
  const request = requests[route];
  if (!request) throw new Error(`no sample request for ${route}`);
  const [method, url] = route.split(" ") as [InjectOptions["method"], string];
  return { ...request, method, url };
}

export const THROTTLED = Object.keys(THROTTLED_ROUTES);

export function send(t: TestApp, request: InjectOptions, remoteAddress: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ ...request, remoteAddress });
}

/** Uses up a client's minute with forgot requests (each counts; none hashes a password). */
export async function exhaust(t: TestApp, remoteAddress: string, perMinute: number, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < perMinute; i++) {
    const response = await t.app.inject({
      method: "POST", url: "/api/auth/password/forgot", payload: { email: "nobody@example.com" }, remoteAddress, headers,
    });
    if (response.statusCode !== 202) throw new Error(`forgot answered ${response.statusCode}`);
  }
}

/** The total of argon2 verifications (real and dummy) the app has run. */
export async function verifications(t: TestApp): Promise<number> {
  const metric = await t.metrics.registry.getSingleMetric("deadbolt_password_verifications_total")?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}
