import type { FastifyInstance } from "fastify";
import { createClient, deleteClient, listClients, type ClientView } from "../oidc/index.ts";
import { timeView } from "../time.ts";
import { formCheck, TextField } from "../http/schemas.ts";
import { utc } from "./pages-admin-view.ts";
import type { WebDeps } from "./plugin.ts";
import { renderPage, viewerOf } from "./render.ts";

const NAME_MAX = 100;
// The API's rule for a client id in a path (issue 8).
const isClientId = formCheck(TextField({ minLength: 1, maxLength: 200 }));

function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  return typeof value === "string" ? value : "";
}

function rows(clients: readonly ClientView[], now: number) {
  return clients.map((client) => ({ ...client, createdText: utc(client.createdAt), created: timeView(client.createdAt, now), deletePath: `/admin/clients/${encodeURIComponent(client.clientId)}/delete` }));
}

/**
 * `/admin/clients`: the OpenID Connect clients (apps signing in through deadbolt), a form to
 * register one (its secret shown once, on the answer to that form) and a Delete button each.
 */
export async function adminClientPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { auth, config } = deps;
  const page = async (request: { session: unknown }, extra: Record<string, unknown> = {}) => ({
    title: "Apps (OpenID Connect clients)", viewer: viewerOf(request.session as Parameters<typeof viewerOf>[0]), wide: true,
    issuer: config.publicUrl, clients: rows(await listClients(auth.database.db), auth.now()), form: { name: "", redirectUris: "", public: false },
    ...extra,
  });

  app.get("/admin/clients", { schema: { hide: true } }, async (request, reply) => {
    const deleted = (request.query as Record<string, unknown>).deleted === "1";
    return renderPage(reply, "admin-clients", await page(request, deleted ? { notice: { tone: "ok", text: "Client deleted; its tokens are revoked." } } : {}));
  });

  app.post("/admin/clients", { schema: { hide: true } }, async (request, reply) => {
    const name = field(request.body, "name").slice(0, NAME_MAX * 2);
    const uris = field(request.body, "redirectUris").split(/\s+/).filter((uri) => uri !== "");
    const isPublic = field(request.body, "public") === "on";
    const result = await createClient(auth.database.db, { name, redirectUris: uris, public: isPublic }, { now: auth.now(), randomBytes: auth.randomBytes });
    if (!result.ok) {
      return renderPage(reply, "admin-clients", await page(request, {
        notice: { tone: "error", text: `Not created: ${result.message}.` },
        form: { name, redirectUris: uris.join("\n"), public: isPublic },
      }), 400);
    }
    return renderPage(reply, "admin-clients", await page(request, { created: { ...result.client, clientSecret: result.clientSecret } }), 201);
  });

  app.post("/admin/clients/:clientId/delete", { schema: { hide: true } }, async (request, reply) => {
    const clientId = String((request.params as Record<string, unknown>).clientId ?? "");
    const valid = isClientId(clientId);
    if (!valid || !(await deleteClient(auth.database.db, clientId))) {
      return renderPage(reply, "admin-clients", await page(request, { notice: { tone: "error", text: "No such client (already deleted?)." } }), valid ? 404 : 400);
    }
    return reply.redirect("/admin/clients?deleted=1", 303);
  });
}
