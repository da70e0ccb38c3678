import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Database } from "../store/index.ts";
import { sendError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { healthRoutes } from "./routes/health.ts";

export interface ManagementDeps {
  readonly database: Database;
  readonly metrics: Metrics;
  readonly logger?: FastifyBaseLogger;
}

/**
 * The management listener's app (DEADBOLT_MANAGEMENT_HOST/PORT, like Keycloak's management
 * interface): /metrics, /healthz and /readyz. Prometheus counters by login outcome would tell
 * an outsider which e-mails exist, so they are never served on the public port.
 *
 * @example const management = await buildManagementApp({ database, metrics });
 */
export async function buildManagementApp(deps: ManagementDeps): Promise<FastifyInstance> {
  const app = Fastify({ ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }), requestIdHeader: false });
  app.setNotFoundHandler((_request, reply) => sendError(reply, "not_found"));
  app.setErrorHandler((error, request, reply) => {
    request.log.error({ err: error }, "management request failed");
    return sendError(reply, "internal_error");
  });
  await app.register(healthRoutes, { database: deps.database });
  app.get("/metrics", async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).header("cache-control", "no-store").send(text);
  });
  return app;
}
