import type { IncomingMessage, ServerResponse } from "node:http";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import middie from "@fastify/middie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { docsCsp, docsLogo, docsTheme, documentRoute } from "./openapi-docs.ts";
import { Ajv } from "ajv";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { endSession, presentsTrustedDevice, type AuthContext } from "../auth/index.ts";
import type { Config } from "../config.ts";
import { csrfProtection } from "./csrf.ts";
import { registerSecurityHeaders } from "./security-headers.ts";
import { errorBody, isDatabaseUnavailable, sendError } from "./errors.ts";
import { validationMessage } from "./schemas.ts";
import { SESSION_COOKIE } from "./session.ts";
import type { Metrics } from "./metrics.ts";
import { createOidcService } from "../oidc/index.ts";
import { adminEventRoutes } from "./routes/admin-events.ts";
import { adminImportRoutes } from "./routes/admin-import.ts";
import { adminClientRoutes } from "./routes/admin-clients.ts";
import { adminLifecycleRoutes } from "./routes/admin-lifecycle.ts";
import { adminStatsRoutes } from "./routes/admin-stats.ts";
import { adminUserRoutes } from "./routes/admin-users.ts";
import { authRoutes } from "./routes/auth.ts";
import { adminDeviceRoutes, deviceRoutes } from "./routes/devices.ts";
import { healthRoutes } from "./routes/health.ts";
import { mfaRoutes } from "./routes/mfa.ts";
import { recoveryRoutes } from "./routes/recovery.ts";
import type { Throttle } from "./throttle.ts";
import { installThrottle, type TrustedDeviceCheck } from "./throttle-gate.ts";
import { webPages } from "../web/plugin.ts";

export interface AppDeps {
  readonly auth: AuthContext;
  readonly metrics: Metrics;
  readonly throttle: Throttle;
  /** Exempts a user's trusted devices from the per-client throttle; default: the devices the store knows. */
  readonly trustedDevice?: TrustedDeviceCheck;
  /** Fastify's logger; omit for a silent app (tests). */
  readonly logger?: FastifyBaseLogger;
}

/** The throttle's exemption asks the device store (a device the target user trusts). */
function trustedDeviceOf(auth: AuthContext): TrustedDeviceCheck {
  return (deviceToken, userId) => presentsTrustedDevice(auth, { userId }, deviceToken);
}

const BODY_LIMIT_BYTES = 64 * 1024;

function createAjv(options: { coerceTypes: boolean | "array" }): Ajv {
  const ajv = new Ajv({ ...options, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  return ajv;
}

function clientErrorCode(error: FastifyError): "payload_too_large" | "unsupported_media_type" | "invalid_request" {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE" || error.statusCode === 413) return "payload_too_large";
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || error.statusCode === 415) return "unsupported_media_type";
  return "invalid_request";
}

/** Fastify's `trustProxy` for DEADBOLT_TRUST_PROXY: a hop count believes that many proxies (as proxy-addr does). */
function trustProxyOption(trust: Config["trustProxy"]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === "number") return (_address, hop) => hop < trust;
  return trust === false ? false : [...trust];
}

/**
 * Builds the HTTP app without listening: tests call `app.inject()`, `serve` calls `listen`.
 *
 * @example const app = await buildApp(config, { auth, metrics, throttle });
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Client-supplied request ids are not trusted.
    requestIdHeader: false,
    // DEADBOLT_TRUST_PROXY: unset, X-Forwarded-For is ignored and the socket address is the client.
    trustProxy: trustProxyOption(config.trustProxy),
    // A path Fastify cannot route (a bad %-escape, a parameter over 100 characters, such as an
    // id no client or user has) gets the one error shape, not Fastify's own.
    frameworkErrors: (error, _request, reply) => {
      const message = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "A path parameter is too long."
        : error.code === "FST_ERR_BAD_URL" ? "The path is not a valid URL." : undefined;
      return sendError(reply, "invalid_request", message);
    },
  });
  // Bodies are validated strictly (a number is not a password: 400, counts as nothing); only
  // querystrings and params, which are always text, are coerced to the declared types.
  const bodyAjv = createAjv({ coerceTypes: false });
  const textAjv = createAjv({ coerceTypes: "array" });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? bodyAjv : textAjv).compile(schema));
  app.decorateRequest("session", null);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(400).send(errorBody("invalid_request", `Invalid ${error.validationContext ?? "request"}: ${validationMessage(error.message)}`));
    }
    // @fastify/static refuses `/assets/` and traversal with 403/400: to a client it is not there.
    if ((error.statusCode === 403 || error.statusCode === 404) || (error.statusCode === 400 && request.url.startsWith("/assets/"))) {
      return sendError(reply, "not_found");
    }
    if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
      const code = clientErrorCode(error);
      return sendError(reply, code, code === "invalid_request" ? `The request is malformed: ${error.message}` : undefined);
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, "database unavailable; failing closed");
      return reply.header("retry-after", "5").code(503).send(errorBody("service_unavailable"));
    }
    request.log.error({ err: error }, "unhandled error");
    return sendError(reply, "internal_error");
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, "not_found"));
  // Answers carry sessions, tokens, secrets and account data: no cache (shared or not) keeps one.
  // Static assets set their own caching; everything else is no-store unless a route said otherwise.
  app.addHook("onSend", async (request, reply, payload) => {
    if (!reply.hasHeader("cache-control") && !request.url.startsWith("/assets/") && request.url !== "/favicon.ico") {
      reply.header("cache-control", "no-store");
    }
    return payload;
  });

  const https = config.publicUrl.startsWith("https:");
  registerSecurityHeaders(app, {
    // Over plain http (local use) HSTS and upgrade-insecure-requests would break the pages.
    hsts: https,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        upgradeInsecureRequests: https ? [] : null,
      },
    },
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(csrfProtection, { publicUrl: config.publicUrl });

  // The OpenID Provider (oidc-provider, a Koa app) is mounted through middie, as its docs show
  // for Fastify; it reads its own request bodies, so it runs before Fastify parses them.
  const oidc = createOidcService({
    issuer: config.publicUrl, database: deps.auth.database, secretKey: deps.auth.secretKey,
    now: deps.auth.now, randomBytes: deps.auth.randomBytes, log: deps.auth.log,
    webSession: { cookie: SESSION_COOKIE, end: (token) => endSession(deps.auth, token) },
  });
  app.addHook("onClose", async () => oidc.close());
  await app.register(middie);
  app.use(oidc.prefix, (req: IncomingMessage, res: ServerResponse) => void oidc.handle(req, res).catch((error: unknown) => {
    // Only loading the provider (keys from the database) can fail here; it handles its own errors.
    const unavailable = isDatabaseUnavailable(error);
    deps.auth.log.error({ err: error }, unavailable ? "database unavailable; failing closed" : "oidc request failed");
    if (!res.headersSent) res.writeHead(unavailable ? 503 : 500, { "content-type": "application/json", ...(unavailable ? { "retry-after": "5" } : {}) });
    res.end(JSON.stringify({ error: unavailable ? "temporarily_unavailable" : "server_error" }));
  }));
  for (const path of ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]) {
    app.get(path, { schema: { hide: true } }, async (request, reply) => {
      reply.hijack();
      await oidc.handleRoot(request.raw, reply.raw);
    });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: "deadbolt", version: "0.1.0", description: "Authentication with account lockout done right" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
    // Examples and a sentence per response, on a copy of each schema (openapi-docs.ts).
    transform: documentRoute,
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs", staticCSP: true, transformStaticCSP: docsCsp({ https }),
    logo: docsLogo(config.appName), theme: docsTheme(config.appName),
  });

  installThrottle(app, {
    auth: deps.auth, throttle: deps.throttle, trustedDevice: deps.trustedDevice ?? trustedDeviceOf(deps.auth), perMinute: config.throttlePerMinute,
  });
  // /metrics is not here: its counters tell which accounts exist (management.ts serves it).
  await app.register(healthRoutes, { database: deps.auth.database });
  await app.register(authRoutes, { config, auth: deps.auth });
  await app.register(adminUserRoutes, { auth: deps.auth });
  await app.register(adminImportRoutes, { auth: deps.auth });
  await app.register(deviceRoutes, { auth: deps.auth });
  await app.register(adminDeviceRoutes, { auth: deps.auth });
  await app.register(adminLifecycleRoutes, { auth: deps.auth });
  await app.register(adminEventRoutes, { auth: deps.auth });
  await app.register(adminStatsRoutes, { auth: deps.auth });
  await app.register(adminClientRoutes, { auth: deps.auth });
  await app.register(mfaRoutes, { config, auth: deps.auth });
  await app.register(recoveryRoutes, { config, auth: deps.auth });
  await app.register(webPages, { config, auth: deps.auth, oidc });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  return app;
}
