import type { FastifyReply, FastifyRequest } from "fastify";
import { INTERACTION_PARAM, type OidcService, type PendingInteraction } from "../oidc/index.ts";

/**
 * An app's sign-in request (OpenID Connect) riding on /login and /login/mfa: the interaction uid
 * travels in the query or a hidden field, and must match the provider's interaction cookie.
 */
export type AppSignIn =
  | { readonly kind: "none" }
  | { readonly kind: "pending"; readonly interaction: PendingInteraction }
  | { readonly kind: "expired" };

export const EXPIRED_MESSAGE = "This sign-in request from an app has expired or is not valid. Go back to the app and sign in again.";

function uidOf(request: FastifyRequest): string | null {
  const fromBody = (request.body as Record<string, unknown> | null | undefined)?.[INTERACTION_PARAM];
  const fromQuery = (request.query as Record<string, unknown> | null | undefined)?.[INTERACTION_PARAM];
  const uid = typeof fromBody === "string" ? fromBody : typeof fromQuery === "string" ? fromQuery : null;
  if (uid === null || uid === "") return null;
  return /^[A-Za-z0-9_-]{1,100}$/.test(uid) ? uid : "";
}

/**
 * The page's CSP allows forms to go to 'self' only, and browsers hold the redirects after a
 * submission to it too; signing in for an app ends in a redirect to the app, so that one
 * origin (of the redirect URI the provider validated) is added.
 */
function allowRedirectToApp(reply: FastifyReply, origin: string): void {
  const policy = reply.raw.getHeader("content-security-policy") ?? reply.getHeader("content-security-policy");
  if (typeof policy !== "string") return;
  reply.header("content-security-policy", policy.replace(/form-action 'self'/, `form-action 'self' ${origin}`));
}

export async function appSignIn(oidc: OidcService, request: FastifyRequest, reply: FastifyReply): Promise<AppSignIn> {
  const uid = uidOf(request);
  if (uid === null) return { kind: "none" };
  if (uid === "") return { kind: "expired" };
  const interaction = await oidc.interaction(request.raw, reply.raw, uid);
  if (interaction === null) return { kind: "expired" };
  allowRedirectToApp(reply, interaction.redirectOrigin);
  return { kind: "pending", interaction };
}

/** What the sign-in templates need to keep an app's request going. */
export function appView(signIn: AppSignIn): { interaction?: string; appName?: string } {
  return signIn.kind === "pending" ? { interaction: signIn.interaction.uid, appName: signIn.interaction.clientName } : {};
}

export function appClient(signIn: AppSignIn): { app?: { clientId: string; name: string } } {
  return signIn.kind === "pending" ? { app: { clientId: signIn.interaction.clientId, name: signIn.interaction.clientName } } : {};
}

/**
 * Back to the password step, still for the app when the request names its interaction (the
 * second-factor cookie expired, say): /login checks the interaction itself.
 */
export function loginPath(request: FastifyRequest): string {
  const uid = uidOf(request);
  return uid === null || uid === "" ? "/login" : `/login?${INTERACTION_PARAM}=${encodeURIComponent(uid)}`;
}

export function mfaPath(signIn: AppSignIn): string {
  return signIn.kind === "pending" ? `/login/mfa?${INTERACTION_PARAM}=${encodeURIComponent(signIn.interaction.uid)}` : "/login/mfa";
}
