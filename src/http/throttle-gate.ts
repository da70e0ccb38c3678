import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { eventFor, hashToken, recordEvents, type AuthContext } from "../auth/index.ts";
import { findChallengeUser, findSession, findUsableToken, findUserByEmail, normalizeEmail } from "../store/index.ts";
import { errorBody } from "./errors.ts";
import { clientKey } from "./client-address.ts";
import { clientOf, sessionToken } from "./session.ts";
import type { Throttle } from "./throttle.ts";
import { createThrottleLog, type ThrottledSummary } from "./throttle-log.ts";
import { THROTTLED_ROUTES, type ThrottleRule } from "./throttle-rules.ts";

/**
 * Whether the device token a request presents belongs to a device that `userId` trusts.
 * Injected, so the throttle does not depend on how devices are stored.
 */
export type TrustedDeviceCheck = (deviceToken: string, userId: string) => Promise<boolean>;

export const NO_TRUSTED_DEVICES: TrustedDeviceCheck = async () => false;

export interface ThrottleGateDeps {
  readonly auth: AuthContext;
  readonly throttle: Throttle;
  readonly trustedDevice: TrustedDeviceCheck;
  /** DEADBOLT_THROTTLE_PER_MINUTE, reported in events. */
  readonly perMinute: number;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The point an admitted request took from its client's minute; null otherwise. */
    throttleTaken: { readonly key: string; readonly window: number } | null;
  }
}

const DEVICE_COOKIE = "deadbolt_device";
const SWEEP_MS = 10_000;

function text(source: unknown, name: string): string | null {
  const value = (source as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === "string" && value !== "" && value.length <= 512 ? value : null;
}

function presentedDevice(request: FastifyRequest): string | null {
  return text(request.body, "deviceToken") ?? text(request.cookies, DEVICE_COOKIE);
}

/** The user the request acts on, read without hashing anything but SHA-256 of a token. */
async function targetUser(auth: AuthContext, rule: ThrottleRule, request: FastifyRequest): Promise<string | null> {
  const db = auth.database.db;
  const now = auth.now();
  switch (rule.target) {
    case "email": {
      const email = text(request.body, "email");
      return email === null ? null : (await findUserByEmail(db, normalizeEmail(email)))?.id ?? null;
    }
    case "mfa_challenge": {
      const token = text(request.body, "mfaToken") ?? text(request.cookies, "deadbolt_mfa");
      return token === null ? null : findChallengeUser(db, hashToken(token), now);
    }
    case "session": {
      const token = sessionToken(request);
      return token === null ? null : (await findSession(db, hashToken(token)))?.userId ?? null;
    }
    case "reset_token":
    case "unlock_token": {
      const token = text(request.body, "token") ?? text(request.query, "token");
      return token === null ? null : findUsableToken(db, hashToken(token), rule.target === "reset_token" ? "reset" : "unlock", now);
    }
  }
}

function throttledMessage(summary: ThrottledSummary, perMinute: number): string {
  const seconds = Math.max(1, Math.round((summary.until - summary.since) / 1000));
  return `${summary.refused} request${summary.refused === 1 ? "" : "s"} from ${summary.key} refused in ${seconds}s: ` +
    `more than ${perMinute} failed attempts a minute`;
}

async function answer(reply: FastifyReply, rule: ThrottleRule, seconds: number): Promise<FastifyReply> {
  reply.header("retry-after", String(seconds)).code(429);
  if (rule.answer === "page") {
    reply.header("cache-control", "no-store").type("text/html; charset=utf-8");
    // Pages registered beside the views render the layout; the others get a bare page.
    if (typeof reply.view === "function") return reply.view("throttled", { title: "Too many attempts", viewer: null, seconds });
    return reply.send(`<!doctype html><meta charset="utf-8"><title>Too many attempts</title>` +
      `<p>Too many attempts from this address. Try again in ${seconds} seconds.</p>`);
  }
  return reply.send(errorBody("too_many_requests"));
}

/**
 * Installs the per-client throttle on every route of THROTTLED_ROUTES: counted and checked in
 * `preHandler`, so a refused request costs no argon2 and no other work beyond a counter, and
 * a client cannot have more attempts in flight than its limit; refunded in `onSend` when the
 * answer says the attempt did not fail. Requests that present
 * a device trusted by the user they act on are exempt. Call on the root instance before the
 * routes are registered.
 */
export function installThrottle(app: FastifyInstance, deps: ThrottleGateDeps): void {
  const { auth, throttle } = deps;
  const log = createThrottleLog({
    now: auth.now,
    report: (summaries) => recordEvents(auth, summaries.map((s) => eventFor("client.throttled", { user: null }, s.client, s.until,
      throttledMessage(s, deps.perMinute),
      { client: s.key, refused: s.refused, since: new Date(s.since).toISOString(), limitPerMinute: deps.perMinute }))),
  });
  const report = (promise: Promise<void>): void => {
    promise.catch((error: unknown) => auth.log.error({ err: error }, "could not record client.throttled"));
  };
  const sweep = setInterval(() => report(log.flush()), SWEEP_MS);
  sweep.unref();
  app.decorateRequest("throttleTaken", null);

  const ruleOf = (request: FastifyRequest): ThrottleRule | undefined =>
    THROTTLED_ROUTES[`${request.method} ${request.routeOptions.url ?? ""}`];

  async function exempt(rule: ThrottleRule, request: FastifyRequest): Promise<boolean> {
    const device = presentedDevice(request);
    if (device === null) return false;
    const userId = await targetUser(auth, rule, request);
    return userId !== null && deps.trustedDevice(device, userId);
  }

  app.addHook("preHandler", async (request, reply) => {
    const rule = ruleOf(request);
    if (rule === undefined) return;
    // Reports minutes that have ended (a no-op unless one has); the sweep covers quiet times.
    await log.flush().catch((error: unknown) => auth.log.error({ err: error }, "could not record client.throttled"));
    const key = clientKey(request.ip);
    const { wait: seconds, window } = await throttle.take(key);
    if (seconds === 0) {
      request.throttleTaken = { key, window };
      return;
    }
    // Only a client over its limit pays for the device lookup.
    if (await exempt(rule, request)) return;
    report(log.refused(key, clientOf(request)));
    return answer(reply, rule, seconds);
  });

  // Every admitted attempt took a point as it started; one that did not fail gives it back.
  app.addHook("onSend", async (request, reply) => {
    const taken = request.throttleTaken;
    if (taken === null) return;
    request.throttleTaken = null;
    const rule = ruleOf(request);
    if (rule && rule.counts === "failures" && !rule.failureStatuses.includes(reply.statusCode)) await throttle.refund(taken.key, taken.window);
  });

  app.addHook("onClose", async () => {
    clearInterval(sweep);
    await log.flush({ all: true });
  });
}
