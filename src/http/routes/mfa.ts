import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  completeMfaLogin, confirmTotp, disableTotp, RECOVERY_CODE_COUNT, regenerateRecoveryCodes, startTotpSetup, type AuthContext,
} from "../../auth/index.ts";
import type { Config } from "../../config.ts";
import { sendError } from "../errors.ts";
import { deviceTokenOf, setDeviceCookie } from "../device.ts";
import { padFailure, sendLoginFailure } from "../login-answer.ts";
import { CodeField, DeviceTokenField, ErrorSchema, MfaTokenField, PasswordField, SessionUserSchema, TotpCodeField } from "../schemas.ts";
import { clientOf, cookieOptions, requireSession, SESSION_COOKIE } from "../session.ts";

export interface MfaRouteDeps {
  readonly config: Config;
  readonly auth: AuthContext;
}

export async function mfaRoutes(app: FastifyInstance, deps: MfaRouteDeps): Promise<void> {
  const { config, auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const signedIn = requireSession(auth);

  api.post("/api/auth/login/mfa", {
    schema: {
      summary: "Complete a login with a TOTP or recovery code",
      tags: ["auth"],
      body: Type.Object({
        mfaToken: MfaTokenField, code: CodeField, deviceToken: Type.Optional(DeviceTokenField),
      }),
      response: {
        200: Type.Object({
          status: Type.Literal("authenticated"), user: SessionUserSchema, token: Type.String(), deviceToken: Type.Optional(Type.String()),
        }),
        400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 423: ErrorSchema,
      },
    },
  }, async (request, reply) => {
    const startedAt = performance.now();
    const { mfaToken, code } = request.body;
    const result = await completeMfaLogin(auth, { mfaToken, code, client: clientOf(request), deviceToken: deviceTokenOf(request) });
    if (result.kind === "failed") {
      await padFailure(startedAt);
      const reason = result.reason === "invalid_token" || result.reason === "mfa_invalid" ? "wrong_password" : result.reason;
      return sendLoginFailure(reply, config, { kind: "failed", reason, user: result.user, attemptsRemaining: null });
    }
    reply.setCookie(SESSION_COOKIE, result.token, cookieOptions(config.publicUrl, config.sessionMaxAgeMs));
    setDeviceCookie(reply, config, result.deviceToken);
    const role = result.user.role === "admin" ? "admin" as const : "user" as const;
    return {
      status: "authenticated" as const, user: { id: result.user.id, email: result.user.email, role }, token: result.token,
      ...(result.deviceToken === null ? {} : { deviceToken: result.deviceToken }),
    };
  });

  api.post("/api/auth/mfa/totp/setup", {
    schema: {
      summary: "Start TOTP enrollment: a new secret, its otpauth:// URL and a QR code (SVG)",
      tags: ["mfa"],
      response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String(), qrSvg: Type.String() }), 401: ErrorSchema, 409: ErrorSchema },
    },
    preHandler: signedIn,
  }, async (request, reply) => {
    const setup = await startTotpSetup(auth, request.session!.user);
    if (setup === "already_enabled") return sendError(reply, "mfa_already_enabled");
    return setup;
  });

  api.post("/api/auth/mfa/totp/confirm", {
    schema: {
      summary: `Enable TOTP with a first valid code; returns ${RECOVERY_CODE_COUNT} recovery codes, shown once`,
      tags: ["mfa"],
      body: Type.Object({ code: TotpCodeField }),
      response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), 400: ErrorSchema, 401: ErrorSchema, 409: ErrorSchema },
    },
    preHandler: signedIn,
  }, async (request, reply) => {
    const result = await confirmTotp(auth, request.session!.user, request.body.code.trim(), clientOf(request));
    if (result === "already_enabled") return sendError(reply, "mfa_already_enabled");
    if (result === "no_pending_setup") return sendError(reply, "invalid_request", "Start the setup first (POST /api/auth/mfa/totp/setup).");
    if (result === "invalid_code") return sendError(reply, "invalid_code");
    return { recoveryCodes: [...result.recoveryCodes] };
  });

  api.delete("/api/auth/mfa/totp", {
    schema: {
      summary: "Turn TOTP off; needs the password (a wrong one counts as a failed attempt)",
      tags: ["mfa"],
      body: Type.Object({ password: PasswordField }),
      response: { 204: Type.Null(), 400: ErrorSchema, 401: ErrorSchema },
    },
    preHandler: signedIn,
  }, async (request, reply) => {
    const startedAt = performance.now();
    const result = await disableTotp(auth, request.session!.user, request.body.password, clientOf(request));
    if (result === "not_enabled") return sendError(reply, "invalid_request", "Two-factor authentication is not enabled.");
    if (result === "refused") {
      await padFailure(startedAt);
      return sendError(reply, "invalid_credentials", config.loginFailureMessage);
    }
    return reply.code(204).send(null);
  });

  api.post("/api/auth/mfa/recovery-codes", {
    schema: {
      summary: `Replace the recovery codes with ${RECOVERY_CODE_COUNT} new ones (the old ones stop working); needs the password`,
      tags: ["mfa"],
      body: Type.Object({ password: PasswordField }),
      response: {
        200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }, { description: "The new codes, shown once" }),
        400: ErrorSchema, 401: ErrorSchema,
      },
    },
    preHandler: signedIn,
  }, async (request, reply) => {
    const startedAt = performance.now();
    const result = await regenerateRecoveryCodes(auth, request.session!.user, request.body.password, clientOf(request));
    if (result === "not_enabled") return sendError(reply, "invalid_request", "Two-factor authentication is not enabled.");
    if (result === "refused") {
      await padFailure(startedAt);
      return sendError(reply, "invalid_credentials", config.loginFailureMessage);
    }
    reply.header("cache-control", "no-store");
    return { recoveryCodes: [...result.recoveryCodes] };
  });
}
