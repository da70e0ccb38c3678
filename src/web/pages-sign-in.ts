import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { completeMfaLogin, endSession, login } from "../auth/index.ts";
import { createTimingEqualizer } from "../auth/answer-timing.ts";
import { requestPasswordReset } from "../notify/index.ts";
import type { UserRow } from "../store/index.ts";
import { deviceTokenOf, setDeviceCookie } from "../http/device.ts";
import { BUSY_MESSAGE, BUSY_RETRY_AFTER_S, isPadded, padFailure } from "../http/login-answer.ts";
import { CodeField, EmailField, formCheck, MfaTokenField, PasswordField } from "../http/schemas.ts";
import { clientOf, cookieOptions, SESSION_COOKIE } from "../http/session.ts";
import { pageSession, renderPage, viewerOf } from "./render.ts";
import type { WebDeps } from "./plugin.ts";
import { PROVIDER_SESSION_COOKIE } from "../oidc/index.ts";
import { appClient, appSignIn, appView, EXPIRED_MESSAGE, loginPath, mfaPath, type AppSignIn } from "./sign-in-oidc.ts";
import { agoText, utcText } from "../time.ts";

const MFA_COOKIE = "deadbolt_mfa";
// The API's own field rules: a form refuses (400, counting nothing) what the API calls malformed.
const isEmail = formCheck(EmailField);
const isPassword = formCheck(PasswordField);
const isCode = formCheck(CodeField);
const isMfaToken = formCheck(MfaTokenField);

function field(body: unknown, name: string): string | null {
  const value = (body as Record<string, unknown> | null)?.[name];
  return typeof value === "string" ? value : null;
}

function homeOf(user: UserRow): string {
  return user.role === "admin" ? "/admin" : "/account";
}

export async function signInPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { config, auth, oidc } = deps;

  async function signIn(
    request: FastifyRequest, reply: FastifyReply, user: UserRow, token: string, deviceToken: string | null, app: AppSignIn,
  ): Promise<FastifyReply> {
    reply.setCookie(SESSION_COOKIE, token, cookieOptions(config.publicUrl, config.sessionMaxAgeMs));
    setDeviceCookie(reply, config, deviceToken);
    // Signing in for an app: the provider issues its code only now, after the guard said yes.
    if (app.kind === "pending") return reply.redirect(await oidc.finishLogin(request.raw, reply.raw, user.id), 303);
    return reply.redirect(homeOf(user), 303);
  }

  function failureText(reason: string, lockedUntil: number | null): string {
    if (config.disclosure === "informative") {
      if (reason === "locked" && lockedUntil !== null) return `The account is locked until ${utcText(lockedUntil)} (${agoText(lockedUntil, auth.now())}).`;
      if (reason === "disabled") return "The account is disabled. Contact an administrator.";
    }
    return config.loginFailureMessage;
  }

  app.get("/", { schema: { hide: true } }, async (request, reply) => {
    const session = await pageSession(auth, request);
    return reply.redirect(session ? homeOf(session.user) : "/login", 303);
  });

  app.get("/login", { schema: { hide: true } }, async (request, reply) => {
    const forApp = await appSignIn(oidc, request, reply);
    if (forApp.kind === "expired") return renderPage(reply, "login", { title: "Sign in", viewer: null, error: EXPIRED_MESSAGE }, 400);
    if (forApp.kind === "pending" && forApp.interaction.prompt === "consent") {
      return reply.redirect(await oidc.finishConsent(request.raw, reply.raw), 303);
    }
    const session = forApp.kind === "none" ? await pageSession(auth, request) : null;
    if (session) return reply.redirect(homeOf(session.user), 303);
    const signedOut = (request.query as Record<string, unknown> | null)?.signed_out === "1";
    return renderPage(reply, "login", {
      title: "Sign in", viewer: null, ...appView(forApp), info: signedOut ? "You are signed out." : undefined,
    });
  });

  app.post("/login", { schema: { hide: true } }, async (request, reply) => {
    const startedAt = performance.now();
    const email = field(request.body, "email")?.trim() ?? "";
    const password = field(request.body, "password") ?? "";
    const forApp = await appSignIn(oidc, request, reply);
    if (forApp.kind === "expired") return renderPage(reply, "login", { title: "Sign in", viewer: null, email, error: EXPIRED_MESSAGE }, 400);
    const view = appView(forApp);
    if (!isEmail(email) || !isPassword(password)) {
      return renderPage(reply, "login", { title: "Sign in", viewer: null, email, ...view, error: "Enter your e-mail address and password." }, 400);
    }
    const client = clientOf(request);
    const result = await login(auth, { email, password, client: { ...client, ...appClient(forApp) }, deviceToken: deviceTokenOf(request) });
    if (result.kind === "authenticated") return signIn(request, reply, result.user, result.token, result.deviceToken, forApp);
    if (result.kind === "mfa_required") {
      reply.setCookie(MFA_COOKIE, result.mfaToken, { ...cookieOptions(config.publicUrl, auth.mfaChallengeTtlMs), path: "/login/mfa" });
      return reply.redirect(mfaPath(forApp), 303);
    }
    if (!isPadded(result)) {
      reply.header("retry-after", String(BUSY_RETRY_AFTER_S));
      return renderPage(reply, "login", { title: "Sign in", viewer: null, email, ...view, error: BUSY_MESSAGE }, 429);
    }
    await padFailure(startedAt);
    return renderPage(reply, "login", {
      title: "Sign in", viewer: null, email, ...view, error: failureText(result.reason, result.user?.locked_until ?? null),
    }, 401);
  });

  app.get("/login/mfa", { schema: { hide: true } }, async (request, reply) => {
    if (!request.cookies[MFA_COOKIE]) return reply.redirect(loginPath(request), 303);
    const forApp = await appSignIn(oidc, request, reply);
    if (forApp.kind === "expired") return renderPage(reply, "login", { title: "Sign in", viewer: null, error: EXPIRED_MESSAGE }, 400);
    return renderPage(reply, "login-mfa", { title: "Two-step verification", viewer: null, ...appView(forApp) });
  });

  app.post("/login/mfa", { schema: { hide: true } }, async (request, reply) => {
    const startedAt = performance.now();
    const mfaToken = request.cookies[MFA_COOKIE];
    const code = field(request.body, "code")?.trim() ?? "";
    if (!mfaToken) return reply.redirect(loginPath(request), 303);
    const forApp = await appSignIn(oidc, request, reply);
    if (forApp.kind === "expired") return renderPage(reply, "login", { title: "Sign in", viewer: null, error: EXPIRED_MESSAGE }, 400);
    const view = appView(forApp);
    if (!isCode(code)) {
      return renderPage(reply, "login-mfa", { title: "Two-step verification", viewer: null, ...view, error: "Enter the 6-digit code or a recovery code." }, 400);
    }
    if (!isMfaToken(mfaToken)) {
      return renderPage(reply, "login", { title: "Sign in", viewer: null, ...view, error: "This sign-in took too long. Start over with your e-mail and password." }, 400);
    }
    const result = await completeMfaLogin(auth, {
      mfaToken, code, client: { ...clientOf(request), ...appClient(forApp) }, deviceToken: deviceTokenOf(request),
    });
    if (result.kind === "authenticated") {
      reply.clearCookie(MFA_COOKIE, { path: "/login/mfa" });
      return signIn(request, reply, result.user, result.token, result.deviceToken, forApp);
    }
    await padFailure(startedAt);
    // The password step already succeeded, so saying the code was wrong discloses nothing new;
    // a lock or disable keeps the generic words.
    const error = result.reason === "mfa_invalid"
      ? "That code is not correct. Enter the current 6-digit code from your authenticator app, or one of your recovery codes."
      : result.reason === "invalid_token" ? "This sign-in took too long. Start over with your e-mail and password."
        : failureText(result.reason, result.user?.locked_until ?? null);
    return renderPage(reply, "login-mfa", { title: "Two-step verification", viewer: null, ...view, error }, 401);
  });

  app.post("/logout", { schema: { hide: true } }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await endSession(auth, token);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    // Signed out of deadbolt means signed out of the apps' single sign-on in this browser too.
    await oidc.endBrowserSession(request.cookies[PROVIDER_SESSION_COOKIE]);
    for (const name of [PROVIDER_SESSION_COOKIE, `${PROVIDER_SESSION_COOKIE}.sig`]) reply.clearCookie(name, { path: "/" });
    return reply.redirect("/login?signed_out=1", 303);
  });

  app.get("/forgot", { schema: { hide: true } }, async (request, reply) =>
    renderPage(reply, "forgot", { title: "Reset your password", viewer: viewerOf(await pageSession(auth, request)) }));

  const forgotPacing = createTimingEqualizer();
  app.post("/forgot", { schema: { hide: true } }, async (request, reply) => {
    const startedAt = performance.now();
    const email = field(request.body, "email")?.trim() ?? "";
    const viewer = viewerOf(await pageSession(auth, request));
    if (!isEmail(email)) {
      return renderPage(reply, "forgot", { title: "Reset your password", viewer, error: "Enter your e-mail address." }, 400);
    }
    // Same answer and timing whether or not the address has an account.
    const { known } = await requestPasswordReset(auth, email, clientOf(request));
    await forgotPacing.finish(startedAt, { sample: known });
    return renderPage(reply, "forgot", { title: "Reset your password", viewer, sent: true });
  });
}
