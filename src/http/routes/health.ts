import type { FastifyInstance } from "fastify";
import type { Database } from "../../store/index.ts";
import { sendError } from "../errors.ts";

/** /healthz and /readyz: on the public port and on the management listener. */
export async function healthRoutes(app: FastifyInstance, deps: { database: Database }): Promise<void> {
  app.get("/healthz", { schema: { summary: "The process is up", tags: ["operations"] } },
    async () => ({ status: "ok" }));

  app.get("/readyz", { schema: { summary: "The database answers (503 when it does not)", tags: ["operations"] } },
    async (request, reply) => {
      try {
        await deps.database.ping(2_000);
        return { status: "ready" };
      } catch (error) {
        request.log.warn({ err: error }, "readiness check failed: database unreachable");
        return sendError(reply, "service_unavailable", "The database is unreachable.");
      }
    });
}
