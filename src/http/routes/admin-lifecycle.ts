import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { changeRole, deleteUser, resetMfa, sendResetLink, userView, type AuthContext } from "../../auth/index.ts";
import { adminActor, requireAdmin } from "../admin-guard.ts";
import { sendError } from "../errors.ts";
import { ErrorSchema, IdParams, UserSchema } from "../schemas.ts";

export interface AdminLifecycleRouteDeps {
  readonly auth: AuthContext;
}

const UserParams = IdParams;
const security = [{ bearer: [] }];
const described = (description: string) => ({ ...ErrorSchema, description });
const NOT_FOUND = described("No user with this id");
const AUTH_ERRORS = { 401: described("Not signed in"), 403: described("Signed in, but not an admin") };

/** SPEC "Admin": reset-mfa, send-reset, role changes and deletion, each audited. */
export async function adminLifecycleRoutes(app: FastifyInstance, deps: AdminLifecycleRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));

  api.post("/api/admin/users/:id/reset-mfa", {
    schema: {
      summary: "Turn off the user's two-step verification (lost phone and recovery codes)",
      description: "Removes the TOTP secret and every recovery code, ends the user's sessions, ends a lock caused by wrong codes, and mails the user. The user then signs in with the password alone and can enrol again.",
      tags: ["admin"], security, params: UserParams,
      response: { 200: { ...UserSchema, description: "The user, with mfaEnabled false" }, 404: NOT_FOUND, ...AUTH_ERRORS },
    },
  }, async (request, reply) => {
    const result = await resetMfa(auth, request.params.id, adminActor(request));
    if (!result.ok) return sendError(reply, "not_found", "No user with this id.");
    return userView(auth, result.user);
  });

  api.post("/api/admin/users/:id/send-reset", {
    schema: {
      summary: "Mail the user a password-reset link (valid one hour)",
      tags: ["admin"], security, params: UserParams,
      response: {
        202: Type.Object({ status: Type.Literal("accepted") }, { description: "The mail is queued (or held back by DEADBOLT_NOTIFY_MAX_PER_HOUR, which the event log records)" }),
        404: NOT_FOUND, ...AUTH_ERRORS,
      },
    },
  }, async (request, reply) => {
    const result = await sendResetLink(auth, request.params.id, adminActor(request));
    if (!result.ok) return sendError(reply, "not_found", "No user with this id.");
    return reply.code(202).send({ status: "accepted" as const });
  });

  api.patch("/api/admin/users/:id", {
    schema: {
      summary: "Change a user's role",
      tags: ["admin"], security, params: UserParams,
      body: Type.Object({ role: Type.Union([Type.Literal("user"), Type.Literal("admin")], { examples: ["admin"] }) }, { additionalProperties: false }),
      response: {
        200: { ...UserSchema, description: "The user with the new role" },
        400: described("Not a role (user or admin)"), 404: NOT_FOUND,
        409: described("last_admin: the last active admin keeps the role; cannot_change_own_role"), ...AUTH_ERRORS,
      },
    },
  }, async (request, reply) => {
    const result = await changeRole(auth, request.params.id, request.body.role, adminActor(request));
    if (result.ok) return userView(auth, result.user);
    if (result.error === "not_found") return sendError(reply, "not_found", "No user with this id.");
    return sendError(reply, result.error === "self" ? "cannot_change_own_role" : "last_admin");
  });

  api.delete("/api/admin/users/:id", {
    schema: {
      summary: "Delete a user (the event log keeps the e-mail)",
      tags: ["admin"], security, params: UserParams,
      response: {
        204: Type.Null({ description: "Deleted, with its sessions, tokens and queued mails" }), 404: NOT_FOUND,
        409: described("last_admin: the last active admin is never deleted; cannot_delete_self"), ...AUTH_ERRORS,
      },
    },
  }, async (request, reply) => {
    const result = await deleteUser(auth, request.params.id, adminActor(request));
    if (result.ok) return reply.code(204).send(null);
    if (result.error === "not_found") return sendError(reply, "not_found", "No user with this id.");
    return sendError(reply, result.error === "self" ? "cannot_delete_self" : "last_admin");
  });
}
