import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { changePassword, endSession, login, type AuthContext } from "../../auth/index.ts";
import type { Config } from "../../config.ts";
import { deviceTokenOf, setDeviceCookie } from "../device.ts";
import { sendError } from "../errors.ts";
import { isPadded, padFailure, sendLoginFailure } from "../login-answer.ts";
import { DeviceTokenField, EmailField, ErrorSchema, NewPasswordField, PasswordField, SessionUserSchema } from "../schemas.ts";
import { clientOf, cookieOptions, requireSession, SESSION_COOKIE, sessionToken } from "../session.ts";

export interface AuthRouteDeps {
  readonly config: Config;
  readonly auth: AuthContext;
}

const LoginBody = Type.Object({ email: EmailField, password: PasswordField, deviceToken: Type.Optional(DeviceTokenField) });
const Authenticated = Type.Object({
  status: Type.Literal("authenticated"),
  user: SessionUserSchema,
  token: Type.String(),
  deviceToken: Type.Optional(Type.String({ description: "Send it back as deviceToken to sign in as a trusted device" })),
});
const MfaRequired = Type.Object({ status: Type.Literal("mfa_required"), mfaToken: Type.String() });

export async function authRoutes(app: FastifyInstance, deps: AuthRouteDeps): Promise<void> {
  const { config, auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const signedIn = requireSession(auth);

  api.post("/api/auth/login", {
    schema: {
      summary: "Sign in with e-mail and password",
      tags: ["auth"],
      body: LoginBody,
      response: { 200: Type.Union([Authenticated, MfaRequired]), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 423: ErrorSchema, 429: ErrorSchema },
    },
  }, async (request, reply) => {
    const startedAt = performance.now();
    const client = clientOf(request);
    const deviceToken = deviceTokenOf(request);
    const result = await login(auth, { email: request.body.email, password: request.body.password, client, deviceToken });
    if (result.kind === "failed") {
      if (isPadded(result)) await padFailure(startedAt);
      return sendLoginFailure(reply, config, result);
    }
    if (result.kind === "mfa_required") return { status: "mfa_required" as const, mfaToken: result.mfaToken };
    reply.setCookie(SESSION_COOKIE, result.token, cookieOptions(config.publicUrl, config.sessionMaxAgeMs));
    setDeviceCookie(reply, config, result.deviceToken);
    return {
      status: "authenticated" as const,
      user: { id: result.user.id, email: result.user.email, role: result.user.role === "admin" ? "admin" as const : "user" as const },
      token: result.token,
      ...(result.deviceToken === null ? {} : { deviceToken: result.deviceToken }),
    };
  });

  api.get("/api/auth/me", {
    schema: {
      summary: "The signed-in user",
      tags: ["auth"],
      response: { 200: Type.Object({ user: Type.Object({ ...SessionUserSchema.properties, mfaEnabled: Type.Boolean() }) }), 401: ErrorSchema },
    },
    preHandler: signedIn,
  }, async (request) => {
    const user = request.session!.user;
    return { user: { id: user.id, email: user.email, role: user.role === "admin" ? "admin" as const : "user" as const, mfaEnabled: user.mfa_enabled === 1 } };
  });

  api.post("/api/auth/logout", {
    schema: { summary: "End the current session", tags: ["auth"], response: { 204: Type.Null() } },
  }, async (request, reply) => {
    const token = sessionToken(request);
    if (token !== null) await endSession(auth, token);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return reply.code(204).send(null);
  });

  api.post("/api/auth/password/change", {
    schema: {
      summary: "Change the password; a wrong current password counts as a failed attempt",
      tags: ["auth"],
      body: Type.Object({ currentPassword: PasswordField, newPassword: NewPasswordField() }),
      response: { 204: Type.Null(), 400: ErrorSchema, 401: ErrorSchema },
    },
    preHandler: signedIn,
  }, async (request, reply) => {
    const startedAt = performance.now();
    const result = await changePassword(auth, request.session!, request.body, clientOf(request));
    if (result.kind === "weak_password") return sendError(reply, "weak_password", `The password ${result.reason}.`);
    if (result.kind === "refused") {
      await padFailure(startedAt);
      return sendError(reply, "invalid_credentials", config.loginFailureMessage);
    }
    return reply.code(204).send(null);
  });
}
