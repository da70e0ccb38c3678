import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  changePassword, confirmTotp, disableTotp, forgetDevice, listDevices, pendingTotpSetup, RECOVERY_CODE_COUNT, recoveryCodesLeft, regenerateRecoveryCodes,
  startTotpSetup, userView, type Authenticated, type DeviceView, type TotpSetup,
} from "../auth/index.ts";
import { deviceTokenOf } from "../http/device.ts";
import { timeView } from "../time.ts";
import { describeUserAgent } from "../user-agent.ts";
import { padFailure } from "../http/login-answer.ts";
import { formCheck, IdField, PasswordField } from "../http/schemas.ts";
import { clientOf } from "../http/session.ts";
import { PASSWORD_MAX_LENGTH } from "../text.ts";
import type { WebDeps } from "./plugin.ts";
import { pageSession, renderPage, viewerOf } from "./render.ts";

// The API's field rules: what its routes answer 400 to, these forms refuse with 400 and count nothing.
const isPassword = formCheck(PasswordField);
const isId = formCheck(IdField);
const TOO_LONG = `The password is longer than ${PASSWORD_MAX_LENGTH} characters.`;

function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  return typeof value === "string" ? value : "";
}

/** The key as people type it: groups of four ("ABCD EFGH …"); authenticators ignore the spaces. */
export function keyInGroups(secret: string): string {
  return secret.replace(/=+$/, "").match(/.{1,4}/g)?.join(" ") ?? "";
}

function setupView(setup: TotpSetup) {
  return { qrSvg: setup.qrSvg, secret: setup.secret, secretGroups: keyInGroups(setup.secret) };
}

/** A trusted device in words: "Firefox 133 on Windows 10", last used when and from where. */
function presentDevice(device: DeviceView, now: number) {
  return {
    id: device.id,
    name: describeUserAgent(device.userAgent),
    lastUsed: timeView(device.lastUsedAt, now),
    since: timeView(device.createdAt, now),
    ip: device.ip ?? "an unknown address",
    current: device.current,
  };
}

export async function accountPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { auth } = deps;

  async function signedIn(request: FastifyRequest, reply: FastifyReply): Promise<Authenticated | null> {
    const session = await pageSession(auth, request);
    if (!session) await reply.redirect("/login", 303);
    return session;
  }

  /** `passwordError` is shown next to the new-password field; `error` above everything. */
  async function account(
    reply: FastifyReply, session: Authenticated, notes: { error?: string; info?: string; passwordError?: string }, status = 200,
  ) {
    const devices = await listDevices(auth, session.user.id, deviceTokenOf(reply.request));
    return renderPage(reply, "account", {
      title: "Your account", viewer: viewerOf(session), user: await userView(auth, session.user),
      lastLogin: timeView(session.user.last_login_at, auth.now()),
      recoveryCodesLeft: session.user.mfa_enabled === 1 ? await recoveryCodesLeft(auth, session.user.id) : null, recoveryCodeCount: RECOVERY_CODE_COUNT,
      minLength: auth.passwords.minLength, ...notes,
      deviceTrust: auth.deviceTrust, devices: devices.map((device) => presentDevice(device, auth.now())),
    }, status);
  }

  app.get("/account", { schema: { hide: true } }, async (request, reply) => {
    const session = await signedIn(request, reply);
    // A redirect already answered: hand back the reply itself, never a value to send again.
    return session ? account(reply, session, {}) : reply;
  });

  app.post("/account/password", { schema: { hide: true } }, async (request, reply) => {
    const startedAt = performance.now();
    const session = await signedIn(request, reply);
    if (!session) return reply;
    const currentPassword = field(request.body, "currentPassword");
    const newPassword = field(request.body, "newPassword");
    if (currentPassword === "" || newPassword === "") return account(reply, session, { error: "Fill in both passwords." }, 400);
    if (!isPassword(currentPassword)) return account(reply, session, { error: `The current password is longer than ${PASSWORD_MAX_LENGTH} characters.` }, 400);
    if (!isPassword(newPassword)) return account(reply, session, { passwordError: TOO_LONG }, 400);
    // Like the reset page: a typo in a password nobody sees would lock its owner out.
    if (newPassword !== field(request.body, "confirmPassword")) {
      return account(reply, session, { error: "The two new passwords are not the same." }, 400);
    }
    const result = await changePassword(auth, session, { currentPassword, newPassword }, clientOf(request));
    if (result.kind === "weak_password") return account(reply, session, { passwordError: `The password ${result.reason}.` }, 400);
    if (result.kind === "refused") {
      await padFailure(startedAt);
      return account(reply, session, { error: "The current password is not correct (or the account is locked)." }, 401);
    }
    return account(reply, session, { info: "Password changed. Your other sessions were signed out." });
  });

  app.post("/account/mfa/setup", { schema: { hide: true } }, async (request, reply) => {
    const session = await signedIn(request, reply);
    if (!session) return reply;
    const setup = await startTotpSetup(auth, session.user);
    if (setup === "already_enabled") return account(reply, session, { error: "Two-step verification is already on." }, 409);
    return renderPage(reply, "account-mfa-setup", { title: "Set up two-step verification", viewer: viewerOf(session), ...setupView(setup) });
  });

  app.post("/account/mfa/confirm", { schema: { hide: true } }, async (request, reply) => {
    const session = await signedIn(request, reply);
    if (!session) return reply;
    const code = field(request.body, "code").replace(/\s+/g, "");
    const result = /^\d{6}$/.test(code) ? await confirmTotp(auth, session.user, code, clientOf(request)) : "invalid_code";
    if (result === "invalid_code" || result === "no_pending_setup") {
      // The same QR code and key again: the entry already in the authenticator keeps working.
      const pending = await pendingTotpSetup(auth, session.user);
      return renderPage(reply, "account-mfa-setup", {
        title: "Set up two-step verification", viewer: viewerOf(session), ...(pending ? setupView(pending) : {}),
        error: pending === null ? "Start the setup again."
          : "That code did not match. Check that the time on your phone is right, and enter the code your app shows now (the entry you added still works).",
      }, 400);
    }
    if (result === "already_enabled") return account(reply, session, { error: "Two-step verification is already on." }, 409);
    return renderPage(reply, "account-recovery-codes", {
      title: "Recovery codes", heading: "Two-step verification is on", viewer: viewerOf(session), codes: result.recoveryCodes,
    });
  });

  app.post("/account/mfa/recovery-codes", { schema: { hide: true } }, async (request, reply) => {
    const startedAt = performance.now();
    const session = await signedIn(request, reply);
    if (!session) return reply;
    const password = field(request.body, "password");
    if (!isPassword(password)) {
      return account(reply, session, { error: password === "" ? "Enter your password to make new recovery codes." : TOO_LONG }, 400);
    }
    const result = await regenerateRecoveryCodes(auth, session.user, password, clientOf(request));
    if (result === "not_enabled") return account(reply, session, { error: "Two-step verification is off: there are no recovery codes." }, 400);
    if (result === "refused") {
      await padFailure(startedAt);
      return account(reply, session, { error: "The password is not correct (or the account is locked). Your recovery codes did not change." }, 401);
    }
    return renderPage(reply, "account-recovery-codes", {
      title: "New recovery codes", heading: "New recovery codes", viewer: viewerOf(session), codes: result.recoveryCodes,
      note: "Your old recovery codes no longer work.",
    });
  });

  app.post("/account/mfa/disable", { schema: { hide: true } }, async (request, reply) => {
    const startedAt = performance.now();
    const session = await signedIn(request, reply);
    if (!session) return reply;
    const password = field(request.body, "password");
    if (!isPassword(password)) {
      return account(reply, session, { error: password === "" ? "Enter your password to turn two-step verification off." : TOO_LONG }, 400);
    }
    const result = await disableTotp(auth, session.user, password, clientOf(request));
    if (result === "refused") {
      await padFailure(startedAt);
      return account(reply, session, { error: "The password is not correct (or the account is locked)." }, 401);
    }
    const fresh = await pageSession(auth, request);
    return fresh ? account(reply, fresh, { info: "Two-step verification is off." }) : reply.redirect("/login", 303);
  });

  app.post("/account/devices/forget", { schema: { hide: true } }, async (request, reply) => {
    const session = await signedIn(request, reply);
    if (!session) return reply;
    const id = field(request.body, "id");
    if (!isId(id)) return account(reply, session, { error: "That device is not one of your trusted devices." }, 400);
    const forgotten = await forgetDevice(auth, session.user, id, { by: "user", client: clientOf(request) });
    if (!forgotten) return account(reply, session, { error: "That device is not one of your trusted devices." }, 404);
    return account(reply, session, { info: "The device was forgotten. It signs in as a new device next time." });
  });
}
