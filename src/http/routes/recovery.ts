import type { FastifyInstance, FastifyReply } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { AuthContext } from "../../auth/index.ts";
import { createTimingEqualizer } from "../../auth/answer-timing.ts";
import type { Config } from "../../config.ts";
import { isUsableToken, redeemResetToken, redeemUnlockToken, requestPasswordReset } from "../../notify/index.ts";
import { renderRecoveryPage, type RecoveryPage, type RecoveryPageData } from "../../notify/pages.ts";
import { deviceTokenOf, setDeviceCookie } from "../device.ts";
import { sendError } from "../errors.ts";
import { EmailField, ErrorSchema, NewPasswordField, TokenField } from "../schemas.ts";
import { clientOf } from "../session.ts";
import { PASSWORD_MAX_LENGTH } from "../../text.ts";

export interface RecoveryRouteDeps {
  readonly config: Config;
  readonly auth: AuthContext;
}

const INVALID_LINK = "This link is invalid, was already used or has expired.";
const INVALID_INVITE = "This invitation link is invalid, was already used or has expired (it works for 7 days). " +
  "Ask your administrator for a new invitation, or request a password reset.";

function field(source: unknown, name: string): string {
  const value = (source as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === "string" ? value : "";
}

function page(reply: FastifyReply, status: number, name: RecoveryPage, data: RecoveryPageData): FastifyReply {
  // Pages may carry a token: never cached, never sent on as a Referer (helmet sets no-referrer).
  return reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8")
    .send(renderRecoveryPage(name, data));
}

/** The reset form, or the invitation's "choose your password" form (same fields, other words). */
type PasswordForm = "reset" | "set-password";

/** A refused password is explained next to its field, not above the form. */
function resetForm(
  reply: FastifyReply, status: number,
  data: { token: string; minLength: number; siteName: string; passwordError?: string; confirmError?: string }, form: PasswordForm = "reset",
): FastifyReply {
  return page(reply, status, "reset", form === "reset"
    ? { title: "Set a new password", ...data, action: "/reset", invited: false }
    : { title: "Choose your password", ...data, action: "/set-password", invited: true });
}

/** SPEC "Recovery": forgot / reset / unlock, as JSON API and as pages that work without JavaScript. */
export async function recoveryRoutes(app: FastifyInstance, deps: RecoveryRouteDeps): Promise<void> {
  const { auth, config } = deps;
  // Every page names the site as DEADBOLT_APP_NAME says.
  const show = (reply: FastifyReply, status: number, name: RecoveryPage, data: RecoveryPageData): FastifyReply =>
    page(reply, status, name, { siteName: config.appName, ...data });
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const pacing = createTimingEqualizer();

  api.post("/api/auth/password/forgot", {
    schema: {
      summary: "Mail a password-reset link; the same 202 for every address, known or not",
      tags: ["recovery"],
      body: Type.Object({ email: EmailField }),
      response: { 202: Type.Object({ status: Type.Literal("accepted") }), 400: ErrorSchema },
    },
  }, async (request, reply) => {
    const startedAt = performance.now();
    const { known } = await requestPasswordReset(auth, request.body.email, clientOf(request));
    // Known addresses do more database work than unknown ones: every answer waits as long as
    // a known one does, then ends on the time grid.
    await pacing.finish(startedAt, { sample: known });
    return reply.code(202).send({ status: "accepted" as const });
  });

  api.post("/api/auth/password/reset", {
    schema: {
      summary: "Set a new password with an e-mailed reset token or an invitation's set-password token; clears a temporary lock (not a disable) and ends every session",
      tags: ["recovery"],
      body: Type.Object({ token: TokenField, password: NewPasswordField() }),
      response: { 204: Type.Null(), 400: ErrorSchema },
    },
  }, async (request, reply) => {
    const { token, password } = request.body;
    const result = await redeemResetToken(auth, token, password, clientOf(request), { deviceToken: deviceTokenOf(request) });
    if (result.kind === "invalid_token") return sendError(reply, "invalid_token");
    if (result.kind === "weak_password") return sendError(reply, "weak_password", `The password ${result.reason}.`);
    setDeviceCookie(reply, config, result.deviceToken);
    return reply.code(204).send(null);
  });

  api.post("/api/auth/unlock", {
    schema: {
      summary: "Unlock a temporarily locked account with an e-mailed token",
      tags: ["recovery"],
      body: Type.Object({ token: TokenField }),
      response: { 204: Type.Null(), 400: ErrorSchema },
    },
  }, async (request, reply) => {
    const result = await redeemUnlockToken(auth, request.body.token, clientOf(request), { deviceToken: deviceTokenOf(request) });
    if (result === "invalid_token") return sendError(reply, "invalid_token");
    setDeviceCookie(reply, config, result.deviceToken);
    return reply.code(204).send(null);
  });

  // A GET only shows a button: mail scanners that open links must not spend the token.
  app.get("/unlock", { schema: { hide: true } }, async (request, reply) => {
    const token = field(request.query, "token");
    if (!(await isUsableToken(auth, token, "unlock"))) {
      return show(reply, 400, "message", { title: "Unlock your account", message: INVALID_LINK, next: "forgot" });
    }
    return show(reply, 200, "unlock", { title: "Unlock your account", token });
  });

  app.post("/unlock", { schema: { hide: true } }, async (request, reply) => {
    const result = await redeemUnlockToken(auth, field(request.body, "token"), clientOf(request), { deviceToken: deviceTokenOf(request) });
    if (result === "invalid_token") {
      return show(reply, 400, "message", { title: "Unlock your account", message: INVALID_LINK, next: "forgot" });
    }
    setDeviceCookie(reply, config, result.deviceToken);
    return show(reply, 200, "message", { title: "Account unlocked", ok: true, message: "Your account is unlocked. You can sign in again." });
  });

  for (const form of ["reset", "set-password"] as const) {
    const kind = form === "reset" ? "reset" : "invite";
    const title = form === "reset" ? "Set a new password" : "Choose your password";
    const invalid = form === "reset" ? INVALID_LINK : INVALID_INVITE;

    app.get(`/${form}`, { schema: { hide: true } }, async (request, reply) => {
      const token = field(request.query, "token");
      if (!(await isUsableToken(auth, token, kind))) {
        return show(reply, 400, "message", { title, message: invalid, next: "forgot" });
      }
      return resetForm(reply, 200, { token, minLength: auth.passwords.minLength, siteName: config.appName }, form);
    });

    app.post(`/${form}`, { schema: { hide: true } }, async (request, reply) => {
      const token = field(request.body, "token");
      const password = field(request.body, "password");
      if (!(await isUsableToken(auth, token, kind))) {
        return show(reply, 400, "message", { title, message: invalid, next: "forgot" });
      }
      const minLength = auth.passwords.minLength;
      // The policy's limit (in characters, as the policy counts them), said before the two fields are compared.
      if ([...password].length > PASSWORD_MAX_LENGTH) {
        return resetForm(reply, 400, { token, minLength, siteName: config.appName, passwordError: `The password is longer than ${PASSWORD_MAX_LENGTH} characters.` }, form);
      }
      if (password !== field(request.body, "confirm")) {
        return resetForm(reply, 400, { token, minLength, siteName: config.appName, confirmError: "The two passwords are not the same." }, form);
      }
      const result = await redeemResetToken(auth, token, password, clientOf(request), { deviceToken: deviceTokenOf(request) });
      if (result.kind === "weak_password") {
        return resetForm(reply, 400, { token, minLength, siteName: config.appName, passwordError: `The password ${result.reason}.` }, form);
      }
      if (result.kind === "invalid_token") return show(reply, 400, "message", { title, message: invalid, next: "forgot" });
      setDeviceCookie(reply, config, result.deviceToken);
      return show(reply, 200, "message", form === "reset"
        ? { title: "Password changed", ok: true, message: "Your password has been changed and every session was signed out. Sign in with the new password." }
        : { title: "Password set", ok: true, message: "Your password is set. Sign in with your e-mail address and the new password." });
    });
  }
}
