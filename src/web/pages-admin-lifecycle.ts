import type { FastifyInstance } from "fastify";
import { changeRole, deleteUser, forgetDevices, inviteUser, resetMfa, sendResetLink, userView } from "../auth/index.ts";
import { adminActor } from "../http/admin-guard.ts";
import { findUserById } from "../store/index.ts";
import { formField, isUserId, malformed, presented, sessionOf, userPath } from "./pages-admin-users.ts";
import { safeBack, withNotice } from "./pages-admin-view.ts";
import type { WebDeps } from "./plugin.ts";
import { renderPage, viewerOf } from "./render.ts";

/** Actions that first show a page asking to confirm (works without JavaScript). */
const CONFIRMED = {
  disable: { title: "Disable", button: "Disable the account", text: "The user is signed out everywhere and cannot sign in until an admin enables the account again." },
  delete: { title: "Delete", button: "Delete the account", text: "The account, its sessions and its pending links are removed for good. Its events stay in the log." },
  "reset-mfa": { title: "Reset two-step verification of", button: "Turn off two-step verification", text: "The authenticator and every recovery code stop working, the user is signed out everywhere and is mailed; they then sign in with the password alone and can enrol again." },
} as const;

/** Invite, send a reset link, reset 2FA, change role, delete; confirmation pages for the destructive ones. */
export async function adminLifecyclePages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { auth } = deps;

  app.post("/admin/users", { schema: { hide: true } }, async (request, reply) => {
    const email = formField(request.body, "email").trim();
    const role = formField(request.body, "role") === "admin" ? "admin" : "user";
    const result = await inviteUser(auth, { email, role }, adminActor(request));
    if (!result.ok) {
      const error = result.error === "email_taken" ? "email_taken" : "invalid_email";
      return reply.redirect(withNotice("/admin/users", { error, email: email.slice(0, 254) }), 303);
    }
    return reply.redirect(withNotice(userPath(result.user.id), { done: "invited", email: result.user.email }), 303);
  });

  for (const action of Object.keys(CONFIRMED) as (keyof typeof CONFIRMED)[]) {
    app.get(`/admin/users/:id/confirm/${action}`, { schema: { hide: true } }, async (request, reply) => {
      const session = sessionOf(request);
      const { id } = request.params as { id: string };
      const row = isUserId(id) ? await findUserById(auth.database.db, id) : undefined;
      if (!row) {
        return renderPage(reply, "admin-message", { title: "No such user", viewer: viewerOf(session), tone: "error", message: "There is no user with this id." }, isUserId(id) ? 404 : 400);
      }
      const user = presented(await userView(auth, row), session, auth.deviceTrust, auth.now());
      const words = CONFIRMED[action];
      return renderPage(reply, "admin-confirm", {
        title: `${words.title} ${row.email}?`, viewer: viewerOf(session), user, action, words,
        back: safeBack((request.query as Record<string, unknown> | null)?.back, user.path),
      });
    });
  }

  app.post("/admin/users/:id/:action", { schema: { hide: true } }, async (request, reply) => {
    const { id, action } = request.params as { id: string; action: string };
    const back = safeBack(formField(request.body, "back"), userPath(id));
    if (!isUserId(id)) return malformed(reply, request, "There is no user with this id.");
    const actor = adminActor(request);
    const target = await findUserById(auth.database.db, id);
    const email = target?.email ?? "";
    switch (action) {
      case "send-reset": {
        const result = await sendResetLink(auth, id, actor);
        return reply.redirect(withNotice(back, result.ok ? { done: "reset-sent", email } : { error: "not_found", email }), 303);
      }
      case "reset-mfa": {
        const result = await resetMfa(auth, id, actor);
        return reply.redirect(withNotice(back, result.ok ? { done: "mfa-reset", email } : { error: "not_found", email }), 303);
      }
      case "role": {
        const role = formField(request.body, "role") === "admin" ? "admin" : "user";
        const result = await changeRole(auth, id, role, actor);
        if (result.ok) return reply.redirect(withNotice(back, { done: role === "admin" ? "made-admin" : "made-user", email }), 303);
        const error = result.error === "self" ? "cannot_change_own_role" : result.error;
        return reply.redirect(withNotice(back, { error, email }), 303);
      }
      case "forget-devices": {
        if (!target) return reply.redirect(withNotice(back, { error: "not_found", email }), 303);
        await forgetDevices(auth, target, { by: "admin", email: actor.email, client: actor.client });
        return reply.redirect(withNotice(back, { done: "devices-forgotten", email }), 303);
      }
      case "delete": {
        const result = await deleteUser(auth, id, actor);
        if (result.ok) return reply.redirect(withNotice("/admin/users", { done: "deleted", email }), 303);
        const error = result.error === "self" ? "cannot_delete_self" : result.error;
        return reply.redirect(withNotice(back, { error, email }), 303);
      }
      default:
        return reply.redirect(withNotice(back, { error: "not_found", email: "" }), 303);
    }
  });
}
