import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { forgetDevice, forgetDevices, listDevices, type AuthContext } from "../../auth/index.ts";
import { findUserById } from "../../store/index.ts";
import { adminActor, requireAdmin } from "../admin-guard.ts";
import { deviceTokenOf } from "../device.ts";
import { sendError } from "../errors.ts";
import { DeviceList, ErrorSchema, IdParams } from "../schemas.ts";
import { clientOf, requireSession } from "../session.ts";

export interface DeviceRouteDeps {
  readonly auth: AuthContext;
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };

/** `GET /api/auth/devices`, `DELETE /api/auth/devices/:id`: the signed-in user's trusted devices. */
export async function deviceRoutes(app: FastifyInstance, deps: DeviceRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const signedIn = requireSession(auth);

  api.get("/api/auth/devices", {
    schema: {
      summary: "The signed-in user's trusted devices; `current` marks the one making the request",
      tags: ["auth"], response: { 200: DeviceList, 401: ErrorSchema },
    },
    preHandler: signedIn,
  }, async (request) => ({ devices: await listDevices(auth, request.session!.user.id, deviceTokenOf(request)) }));

  api.delete("/api/auth/devices/:id", {
    schema: {
      summary: "Forget one of the signed-in user's trusted devices",
      tags: ["auth"], params: IdParams, response: { 204: Type.Null(), ...errors },
    },
    preHandler: signedIn,
  }, async (request, reply) => {
    const forgotten = await forgetDevice(auth, request.session!.user, request.params.id, { by: "user", client: clientOf(request) });
    if (!forgotten) return sendError(reply, "not_found", "No trusted device with this id.");
    return reply.code(204).send(null);
  });
}

/** `GET|DELETE /api/admin/users/:id/devices`: an admin sees or forgets a user's trusted devices. */
export async function adminDeviceRoutes(app: FastifyInstance, deps: DeviceRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));
  const security = [{ bearer: [] }];

  api.get("/api/admin/users/:id/devices", {
    schema: {
      summary: "A user's trusted devices", tags: ["admin"], security, params: IdParams, response: { 200: DeviceList, ...errors },
    },
  }, async (request, reply) => {
    const user = await findUserById(auth.database.db, request.params.id);
    if (!user) return sendError(reply, "not_found", "No user with this id.");
    return { devices: await listDevices(auth, user.id, deviceTokenOf(request)) };
  });

  api.delete("/api/admin/users/:id/devices", {
    schema: {
      summary: "Forget every trusted device of a user (they sign in as new devices again)",
      tags: ["admin"], security, params: IdParams, response: { 204: Type.Null(), ...errors },
    },
  }, async (request, reply) => {
    const user = await findUserById(auth.database.db, request.params.id);
    if (!user) return sendError(reply, "not_found", "No user with this id.");
    const actor = adminActor(request);
    await forgetDevices(auth, user, { by: "admin", email: actor.email, client: actor.client });
    return reply.code(204).send(null);
  });
}
