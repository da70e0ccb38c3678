import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { sendError } from "./errors.ts";
import { SESSION_COOKIE, sessionToken } from "./session.ts";

export interface CsrfOptions {
  /** DEADBOLT_PUBLIC_URL: its origin is always accepted. */
  readonly publicUrl: string;
}

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
const SIGN_IN_PATHS: ReadonlySet<string> = new Set(["/api/auth/login", "/api/auth/login/mfa", "/login", "/login/mfa"]);
/** Sec-Fetch-Site values a browser sends for a request the user or our own pages made. */
const FETCH_SITES_ALLOWED: ReadonlySet<string> = new Set(["same-origin", "none"]);

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === "string" && value !== "" ? value : null;
}

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}

/** Same origin as DEADBOLT_PUBLIC_URL, or same host (with port) as the request's Host header. */
function isOwnOrigin(origin: string, request: FastifyRequest, publicOrigin: string | null): boolean {
  if (origin === publicOrigin) return true;
  const host = header(request, "host");
  if (host === null) return false;
  try {
    // Behind a TLS-terminating proxy the scheme we see differs from the browser's; the host does not.
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** The pattern of the route that will answer (e.g. "/api/auth/login"), or the decoded path. */
function matchedRoute(request: FastifyRequest): string {
  const route = request.routeOptions.url;
  if (typeof route === "string" && route !== "") return route;
  const path = request.url.split("?")[0] ?? "";
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** True when the session comes from the cookie (sent by the browser on its own), not a Bearer header. */
function isCookieAuthenticated(request: FastifyRequest): boolean {
  const cookie = request.cookies?.[SESSION_COOKIE];
  return typeof cookie === "string" && cookie !== "" && sessionToken(request) === cookie;
}

/**
 * Why a cookie-authenticated state-changing request must be refused, or null to let it through.
 * Browsers send Origin on every cross-origin POST (and Sec-Fetch-Site), so a request that
 * carries neither Origin, Referer nor Sec-Fetch-Site is not a browser's cross-site request:
 * a script or CLI holding the cookie itself. SameSite=Lax on the cookie is the second layer.
 */
export function csrfProblem(request: FastifyRequest, publicOrigin: string | null): string | null {
  if (SAFE_METHODS.has(request.method)) return null;
  // Sign-in is checked without a cookie too: a cross-site form must not sign a victim's browser
  // into the attacker's account (login CSRF).
  // Decided on the route the router matched, never on the URL text: `/api/auth/%6cogin` is the
  // login route too (the router decodes it), and so is any spelling the router accepts.
  if (!isCookieAuthenticated(request) && !SIGN_IN_PATHS.has(matchedRoute(request))) return null;
  const origin = header(request, "origin");
  const site = header(request, "sec-fetch-site");
  // Under Referrer-Policy: no-referrer a browser sends `Origin: null` on a same-origin form POST;
  // sandboxed or opaque contexts send it too. Sec-Fetch-Site (scripts cannot set it) tells them apart.
  if (origin === "null") return site === "same-origin" ? null : "Origin: null";
  if (origin !== null) {
    return isOwnOrigin(origin, request, publicOrigin) ? null : `cross-origin request from ${origin.slice(0, 100)}`;
  }
  if (site !== null && !FETCH_SITES_ALLOWED.has(site)) return `Sec-Fetch-Site: ${site.slice(0, 20)}`;
  const referer = header(request, "referer");
  if (referer !== null) {
    const refererOrigin = originOf(referer);
    if (refererOrigin === null || !isOwnOrigin(refererOrigin, request, publicOrigin)) return "cross-origin Referer";
  }
  return null;
}

async function csrfPlugin(app: FastifyInstance, options: CsrfOptions): Promise<void> {
  const publicOrigin = originOf(options.publicUrl);
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    const problem = csrfProblem(request, publicOrigin);
    if (problem === null) return;
    request.log.warn({ url: request.url, method: request.method }, `refused a possible CSRF: ${problem}`);
    await sendError(reply, "forbidden", "Cross-site requests with the session cookie are refused.");
  });
}

/**
 * Refuses cookie-authenticated POST/PUT/PATCH/DELETE requests from another origin with 403
 * `forbidden`, on every route (admin API, password change, logout and the pages' forms).
 * Bearer-authenticated calls are exempt: a browser never adds that header cross-site.
 * Wrapped with fastify-plugin so the hook applies to the whole app, not an encapsulated child.
 *
 * @example await app.register(csrfProtection, { publicUrl: config.publicUrl });
 */
export const csrfProtection = fp(csrfPlugin, { name: "deadbolt-csrf", fastify: "5.x", dependencies: ["@fastify/cookie"] });
