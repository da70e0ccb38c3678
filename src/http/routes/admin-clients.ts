import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AuthContext } from "../../auth/index.ts";
import { createClient, deleteClient, listClients, MAX_REDIRECT_URIS, type ClientView } from "../../oidc/index.ts";
import { requireAdmin } from "../admin-guard.ts";
import { sendError } from "../errors.ts";
import { ErrorSchema, TextField } from "../schemas.ts";

export interface AdminClientRouteDeps {
  readonly auth: AuthContext;
}

const Uri = TextField({ minLength: 1, maxLength: 2000 });
const ClientSchema = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  public: Type.Boolean(),
  redirectUris: Type.Array(Type.String()),
  postLogoutRedirectUris: Type.Array(Type.String()),
  createdAt: Type.String(),
});
const CreatedSchema = Type.Object({
  ...ClientSchema.properties,
  clientSecret: Type.Union([Type.String(), Type.Null()], { description: "Shown once; null for a public client" }),
});
const CreateBody = Type.Object({
  name: TextField({ minLength: 1, maxLength: 100 }),
  redirectUris: Type.Array(Uri, { minItems: 1, maxItems: MAX_REDIRECT_URIS, description: "Matched exactly" }),
  postLogoutRedirectUris: Type.Optional(Type.Array(Uri, { maxItems: MAX_REDIRECT_URIS })),
  public: Type.Optional(Type.Boolean({ description: "A public client (SPA, native) has no secret and must use PKCE" })),
}, { additionalProperties: false });
const ClientParams = Type.Object({ clientId: TextField({ minLength: 1, maxLength: 200 }) });
const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const security = [{ bearer: [] }];

function mutable(view: ClientView): ClientView & { redirectUris: string[]; postLogoutRedirectUris: string[] } {
  return { ...view, redirectUris: [...view.redirectUris], postLogoutRedirectUris: [...view.postLogoutRedirectUris] };
}

/** OpenID Connect clients (apps that sign their users in through deadbolt). */
export async function adminClientRoutes(app: FastifyInstance, deps: AdminClientRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));

  api.get("/api/admin/clients", {
    schema: {
      summary: "List OpenID Connect clients", tags: ["admin"], security,
      response: { 200: Type.Object({ clients: Type.Array(ClientSchema) }), ...errors },
    },
  }, async () => ({ clients: (await listClients(auth.database.db)).map(mutable) }));

  api.post("/api/admin/clients", {
    schema: {
      summary: "Register an OpenID Connect client (first-party: no consent screen); the secret is shown once",
      tags: ["admin"], security, body: CreateBody, response: { 201: CreatedSchema, ...errors },
    },
  }, async (request, reply) => {
    const result = await createClient(auth.database.db, {
      name: request.body.name,
      redirectUris: request.body.redirectUris,
      postLogoutRedirectUris: request.body.postLogoutRedirectUris,
      public: request.body.public ?? false,
    }, { now: auth.now(), randomBytes: auth.randomBytes });
    if (!result.ok) return sendError(reply, "invalid_request", `Invalid body: ${result.message}`);
    reply.header("cache-control", "no-store");
    return reply.code(201).send({ ...mutable(result.client), clientSecret: result.clientSecret });
  });

  api.delete("/api/admin/clients/:clientId", {
    schema: {
      summary: "Delete a client and revoke everything it was issued (refresh and userinfo fail at once)",
      tags: ["admin"], security, params: ClientParams, response: { 204: Type.Null(), ...errors },
    },
  }, async (request, reply) => {
    if (!(await deleteClient(auth.database.db, request.params.clientId))) return sendError(reply, "not_found", "No client with this id.");
    return reply.code(204).send(null);
  });
}
