import type { FastifyReply, FastifyRequest } from "fastify";
import { authenticate, type AuthContext, type Authenticated } from "../auth/index.ts";
import { SESSION_COOKIE } from "../http/session.ts";

export interface Viewer {
  readonly email: string;
  readonly role: "user" | "admin";
}

/** The signed-in user of a page request (cookie only: pages never see Bearer tokens). */
export async function pageSession(auth: AuthContext, request: FastifyRequest): Promise<Authenticated | null> {
  const token = request.cookies[SESSION_COOKIE];
  return typeof token === "string" && token !== "" ? authenticate(auth, token) : null;
}

export function viewerOf(session: Authenticated | null): Viewer | null {
  if (session === null) return null;
  return { email: session.user.email, role: session.user.role === "admin" ? "admin" : "user" };
}

/** Renders a view inside the layout; pages are never cached, since they may show secrets. */
export async function renderPage(
  reply: FastifyReply,
  template: string,
  data: { title: string; viewer: Viewer | null; wide?: boolean; [key: string]: unknown },
  status = 200,
): Promise<FastifyReply> {
  reply.header("cache-control", "no-store").code(status).type("text/html; charset=utf-8");
  return reply.view(template, data);
}
