import type { FastifyReply, FastifyRequest } from "fastify";
import type { Actor, AuthContext } from "../auth/index.ts";
import { sendError } from "./errors.ts";
import { clientOf, requireSession } from "./session.ts";

/**
 * Hook for every admin route: 401 `unauthenticated` without a valid session, 403 `forbidden`
 * for a signed-in user who is not an admin. Add it as an `onRequest` hook of the admin
 * plugins so it runs before body parsing and validation: an outsider learns nothing from a
 * 400 and every route registered in the plugin is guarded without opting in.
 *
 * @example app.addHook("onRequest", requireAdmin(auth));
 */
export function requireAdmin(auth: AuthContext): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const signedIn = requireSession(auth);
  return async function (request, reply) {
    await signedIn(request, reply);
    if (reply.sent) return;
    if (request.session?.user.role !== "admin") await sendError(reply, "forbidden");
  };
}

/** The signed-in admin as the author of an account change (for the audit trail). */
export function adminActor(request: FastifyRequest): Actor & { readonly userId: string } {
  const user = request.session?.user;
  if (!user) throw new Error("adminActor called on a route without requireAdmin");
  return { by: "admin", email: user.email, userId: user.id, client: clientOf(request) };
}
