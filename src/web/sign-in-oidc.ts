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

export async function appSignIn(oidc: OidcService, request: FastifyRequest, reply: FastifyReply): Promise<AppSignIn> {
  const uid = uidOf(request);
  if (uid === null) return { kind: "none" };
  if (uid === "") return { kind: "expired" };
  const interaction = await oidc.interaction(request.raw, reply.raw, uid);
  return interaction === null ? { kind: "expired" } : { kind: "pending", interaction };
}

/** What the sign-in templates need to keep an app's request going. */
export function appView(signIn: AppSignIn): { interaction?: string; appName?: string } {
  return signIn.kind === "pending" ? { interaction: signIn.interaction.uid, appName: signIn.interaction.clientName } : {};
}

export function appClient(signIn: AppSignIn): { app?: { clientId: string; name: string } } {
  return signIn.kind === "pending" ? { app: { clientId: signIn.interaction.clientId, name: signIn.interaction.clientName } } : {};
}

export function mfaPath(signIn: AppSignIn): string {
  return signIn.kind === "pending" ? `/login/mfa?${INTERACTION_PARAM}=${encodeURIComponent(signIn.interaction.uid)}` : "/login/mfa";
}
